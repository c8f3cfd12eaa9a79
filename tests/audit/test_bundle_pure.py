"""Evidence bundles verified offline: intact ones pass, any edit is refused with a reason."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.audit.chains import build as build_chain
from tracker.audit import bundle
from tracker.audit.chain import ChainRecord
from tracker.audit.checkpoint import sign
from tracker.policy import sha256_text

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = "# Privacy\n\nWe keep little.\n"


def _chain() -> list[ChainRecord]:
    records = build_chain(
        [
            {
                "kind": "accepted",
                "version_id": 1,
                "locale": "en",
                "seconds": n,
                "personal": {
                    "user_id": "alice" if n % 2 == 0 else f"user{n}",
                    "ip": "192.0.2.1",
                    "user_agent": "Firefox",
                    "context": {"page": "/signup", "n": n},
                },
            }
            for n in range(6)
        ]
    )
    for r in records:
        r.data["version_sha256"] = sha256_text(TEXT)
    from tracker.audit.chain import GENESIS, seal

    prev = GENESIS
    for r in records:
        seal(r, prev)
        prev = r.hash
    return records


def _bundle(records: list[ChainRecord], upto: int = 5) -> dict[str, Any]:
    mine = [r for r in records if r.personal["user_id"] == "alice"]
    first = mine[0].seq
    return bundle.build(
        user_id="alice",
        records=[(r, {"type": "accepted", "recorded_at": r.data["recorded_at"]}) for r in mine],
        versions=[{"policy": "privacy", "version": 1, "sha256": sha256_text(TEXT), "text": TEXT}],
        notices=[],
        checkpoint=sign(KEY, upto, records[upto - 1].hash, NOW),
        links={
            "from": first,
            "prev_hash": records[first - 1].prev_hash,
            "digests": [r.body_digest().hex() for r in records[first - 1 : upto]],
        },
        generated_at=NOW,
        site_url="https://example.com/",
    )


def test_an_intact_bundle_verifies() -> None:
    data = _bundle(_chain())
    report = bundle.verify(data, trusted=KEY.public_key())
    assert report.ok, report.problems
    assert report.records == 3 and report.anchored == 3 and report.texts == 1
    assert "anchored by checkpoint #5" in report.message
    html = bundle.render_html(data, report)
    assert "<h1>Evidence for user <code>alice</code></h1>" in html


def test_records_after_the_checkpoint_are_said_to_be_unanchored() -> None:
    report = bundle.verify(_bundle(_chain(), upto=3))
    assert report.ok and report.anchored == 2
    assert "1 later record(s) are not yet checkpointed" in report.message


EDITS = {
    "user agent": (lambda d: d["records"][0]["personal"].update(user_agent="Chrome"), "commitment"),
    "kind": (lambda d: d["records"][1]["data"].update(kind="declined"), "do not match its hash"),
    "text": (lambda d: d["versions"][0].update(text=TEXT + " "), "hashes to"),
    "link": (lambda d: d["links"]["digests"].__setitem__(1, "00" * 32), "links"),
    "dropped": (lambda d: d["records"].pop(1), None),
    "salt": (lambda d: d["records"][0]["salts"].update(ip="00" * 16), "commitment"),
    "other user": (lambda d: d["records"][0]["personal"].update(user_id="bob"), "commitment"),
    "checkpoint": (lambda d: d["checkpoint"].update(sequence=4), "signature does not match"),
}


@pytest.mark.parametrize("name", EDITS)
def test_edited_bundles_are_refused(name: str) -> None:
    data = copy.deepcopy(_bundle(_chain()))
    edit, message = EDITS[name]
    edit(data)
    try:
        report = bundle.verify(data)
    except bundle.BundleError as exc:
        assert message is None or message in str(exc)
        return
    if name == "dropped":
        # Dropping a record of the user's own from the bundle is allowed to verify: the
        # records present are still proven; what is missing is visible as a gap in seq.
        assert report.ok and report.records == 2
        return
    assert not report.ok, name
    assert message is not None and message in report.message, report.message


@pytest.mark.parametrize(
    "data,message",
    [
        ([], "not an evidence bundle"),
        ({"format": "policy-tracker/evidence/1"}, "records is missing"),
        (
            {"format": "policy-tracker/evidence/1", "records": [1], "versions": [], "user_id": "a"},
            "records[0] is not an object",
        ),
    ],
)
def test_malformed_bundles_are_refused(data: Any, message: str) -> None:
    with pytest.raises(bundle.BundleError) as caught:
        bundle.verify(data)
    assert message in str(caught.value)

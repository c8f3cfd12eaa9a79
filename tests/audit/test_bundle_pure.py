"""Evidence bundles verified offline: intact ones pass, any edit is refused with a reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.audit.chains import build as build_chain
from tracker.audit import bundle
from tracker.chain.checkpoint import sign
from tracker.chain.records import GENESIS, ChainRecord, make, seal
from tracker.policy import sha256_text

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = "# Privacy\n\nWe keep little.\n"


def _chain() -> list[ChainRecord]:
    """Six events, every other one alice's, then her acknowledgement of notice 9."""
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
    ack = {
        "notice_id": 9,
        "policy_id": 1,
        "from_version_id": 1,
        "to_version_id": 2,
        "api_key_id": 1,
        "acknowledged_at": "2026-01-01T10:00:00.000000Z",
    }
    records.append(make(7, "notice_ack", ack, {"user_id": "alice"}))
    prev = GENESIS
    for r in records:
        seal(r, prev)
        prev = r.hash
    return records


def _shown(r: ChainRecord) -> dict[str, Any]:
    """The readable form of a record, as ``tracker.audit.evidence`` writes it."""
    if r.type != "event":
        return {"type": r.type, **r.data}
    recorded = datetime.fromisoformat(r.data["recorded_at"])
    return {
        "id": r.seq,
        "type": r.data["kind"],
        "user_id": r.personal["user_id"],
        "policy": "privacy",
        "version": 1,
        "sha256": r.data["version_sha256"],
        "method": r.data["method"],
        "api_key_id": r.data["api_key_id"],
        "ip": r.personal["ip"],
        "user_agent": r.personal["user_agent"],
        "locale": r.data["locale"],
        "context": copy.deepcopy(r.personal["context"]),
        "recorded_at": recorded.isoformat(),
    }


NOTICE = {
    "id": 9,
    "user_id": "alice",
    "policy": "privacy",
    "from_version": 1,
    "to_version": 2,
    "state": "acknowledged",
    "created_at": "2026-01-01T09:00:00+00:00",
    "acknowledged_at": "2026-01-01T10:00:00+00:00",
    "acknowledged_by": 1,
}


def _bundle(records: list[ChainRecord], upto: int = 7) -> dict[str, Any]:
    mine = [r for r in records if r.personal["user_id"] == "alice"]
    first = mine[0].seq
    return bundle.build(
        user_id="alice",
        records=[(r, _shown(r)) for r in mine],
        versions=[
            {
                "policy": "privacy",
                "version": 1,
                "sha256": sha256_text(TEXT),
                "url": "https://example.com/privacy/v1/",
                "text": TEXT,
            }
        ],
        notices=[dict(NOTICE)],
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
    assert report.records == 4 and report.anchored == 4 and report.texts == 1
    assert "anchored by checkpoint #7" in report.message
    html = bundle.render_html(data, report)
    assert "<h1>Evidence for user <code>alice</code></h1>" in html
    assert "it cannot prove that it holds every record of\nthe user" in html


def test_records_after_the_checkpoint_are_said_to_be_unanchored() -> None:
    report = bundle.verify(_bundle(_chain(), upto=3), trusted=KEY.public_key())
    assert report.ok and report.anchored == 2
    assert "2 later record(s) are not yet checkpointed" in report.message


def test_without_a_trusted_key_the_checkpoint_anchors_nothing() -> None:
    """Anyone can sign a checkpoint: only a key the verifier trusts makes it an anchor."""
    forged = Ed25519PrivateKey.generate()
    data = _bundle(_chain())
    data["checkpoint"] = sign(forged, 7, data["checkpoint"]["head_hash"], NOW).to_json()
    report = bundle.verify(data)
    assert report.ok and "anchored" in report.message
    assert "anchored by" not in report.message
    assert "could not be checked against a trusted key (pass --public-key)" in report.message
    with pytest.raises(bundle.BundleError, match="not by the trusted key"):
        bundle.verify(data, trusted=KEY.public_key())


def _event(i: int) -> Any:
    return lambda d: d["records"][i]["event"]


EDITS: dict[str, tuple[Callable[[dict[str, Any]], object], str | None]] = {
    "user agent": (lambda d: d["records"][0]["personal"].update(user_agent="Chrome"), "commitment"),
    "kind": (lambda d: d["records"][1]["data"].update(kind="declined"), "do not match its hash"),
    "text": (lambda d: d["versions"][0].update(text=TEXT + " "), "hashes to"),
    "link": (lambda d: d["links"]["digests"].__setitem__(1, "00" * 32), "links"),
    "dropped": (lambda d: d["records"].pop(1), None),
    "salt": (lambda d: d["records"][0]["salts"].update(ip="00" * 16), "commitment"),
    "other user": (lambda d: d["records"][0]["personal"].update(user_id="bob"), "commitment"),
    "checkpoint": (lambda d: d["checkpoint"].update(sequence=4), "signature does not match"),
    # What the HTML page shows, beside the chained fields.
    "shown type": (
        lambda d: _event(1)(d).update(type="declined"),
        "record 3: the readable type 'declined' is not the chained 'accepted'",
    ),
    "shown ip": (lambda d: _event(0)(d).update(ip="10.0.0.1"), "record 1: the readable ip"),
    "shown user agent": (
        lambda d: _event(2)(d).update(user_agent="Chrome"),
        "record 5: the readable user_agent is not the chained one",
    ),
    "shown context": (
        lambda d: _event(0)(d)["context"].update(n=7),
        "record 1: the readable context",
    ),
    "shown user": (lambda d: _event(0)(d).update(user_id="bob"), "the readable user_id"),
    "shown time": (
        lambda d: _event(0)(d).update(recorded_at="2025-01-02T00:00:00+00:00"),
        "record 1: the readable time",
    ),
    "shown method": (lambda d: _event(0)(d).update(method="clickwrap"), "readable method"),
    "shown locale": (lambda d: _event(0)(d).update(locale="fr"), "readable locale"),
    "shown sha256": (lambda d: _event(0)(d).update(sha256="00" * 32), "readable sha256"),
    "shown version": (
        lambda d: _event(0)(d).update(version=2),
        "record 1: shows 'privacy' version 2, but the text it names is 'privacy' version 1",
    ),
    "shown policy": (
        lambda d: _event(2)(d).update(policy="terms"),
        "record 5: shows 'terms' version 1, but the text it names is 'privacy' version 1",
    ),
    "version number": (
        lambda d: d["versions"][0].update(version=2, url="https://example.com/privacy/v2/"),
        "the text it names is 'privacy' version 2 in versions[]",
    ),
    "version policy": (
        lambda d: d["versions"][0].update(policy="terms", url="https://example.com/terms/v1/"),
        "the text it names is 'terms' version 1 in versions[]",
    ),
    "version url": (
        lambda d: d["versions"][0].update(url="https://evil.example/privacy/v1/"),
        "versions[0]: its url",
    ),
    "shown acknowledgement": (
        lambda d: _event(3)(d).update(acknowledged_at="2026-01-02T00:00:00.000000Z"),
        "record 7: its readable entry differs from the chained one",
    ),
    "notice acknowledged at": (
        lambda d: d["notices"][0].update(acknowledged_at="2026-01-02T10:00:00+00:00"),
        "notices[0]: acknowledged at '2026-01-02T10:00:00+00:00', but record 7 chains",
    ),
    "notice acknowledged by": (
        lambda d: d["notices"][0].update(acknowledged_by=2),
        "notices[0]: acknowledged by key 2, but record 7 chains 1",
    ),
    "notice policy": (
        lambda d: d["notices"][0].update(policy="terms"),
        "notices[0] shows policy 'terms', but record 1 of the same policy shows 'privacy'",
    ),
    "notice user": (lambda d: d["notices"][0].update(user_id="bob"), "another user"),
    "notice dropped": (
        lambda d: d["notices"].clear(),
        "record 7 acknowledges notice 9, which is not in the notices",
    ),
}


@pytest.mark.parametrize("name", EDITS)
def test_edited_bundles_are_refused(name: str) -> None:
    data = copy.deepcopy(_bundle(_chain()))
    edit, message = EDITS[name]
    edit(data)
    try:
        report = bundle.verify(data, trusted=KEY.public_key())
    except bundle.BundleError as exc:
        assert message is None or message in str(exc)
        return
    if name == "dropped":
        # A record of the user's own left out is not detected: the links carry digests only,
        # which do not say whose record each one is. The records present are still proven.
        assert report.ok and report.records == 3
        return
    assert not report.ok, name
    assert message is not None and message in report.message, report.message


def test_an_acknowledgement_shown_but_not_chained_is_reported() -> None:
    data = _bundle(_chain())
    data["notices"].append({**NOTICE, "id": 10})
    report = bundle.verify(data, trusted=KEY.public_key())
    assert report.ok and report.unproven_acks == 1
    assert "1 notice acknowledgement(s) shown are not in the chain" in report.message


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

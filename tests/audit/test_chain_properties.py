"""Every kind of tampering is detected, over many random chains (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.audit.chains import build as build_chain
from tests.audit.chains import chains, clone, event_data
from tracker.chain.checkpoint import Checkpoint, sign
from tracker.chain.records import ChainRecord, make, seal, verify

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
RUNS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def head(records: list[ChainRecord]) -> Checkpoint:
    return sign(KEY, records[-1].seq, records[-1].hash, NOW)


def _change(value: Any) -> Any:
    """A different value of a similar kind: a byte change, +1, or something in place of null."""
    if value is None:
        return "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5 if abs(value) < 1e15 else value / 2 + 1
    if isinstance(value, str):
        if not value:
            return "x"
        c = value[0]
        return chr(ord(c) ^ 1 if ord(c) ^ 1 not in range(0xD800, 0xE000) else 0x41) + value[1:]
    if isinstance(value, dict):
        return {**value, "tampered": 1}
    raise AssertionError(type(value))


def _targets(r: ChainRecord) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = [
        ("seq", None),
        ("type", None),
        ("prev_hash", None),
        ("hash", None),
    ]
    found += [("data", k) for k in r.data]
    found += [("commitments", k) for k in r.commitments]
    found += [("personal", k) for k in r.personal]
    found += [("salts", k) for k in r.salts]
    return found


@RUNS
@given(chains, st.data())
def test_a_change_to_any_field_is_detected(records: list[ChainRecord], data: st.DataObject) -> None:
    assert verify(records).ok
    tampered = clone(records)
    r = data.draw(st.sampled_from(tampered))
    where, key = data.draw(st.sampled_from(_targets(r)))
    if key is None:
        setattr(r, where, _change(getattr(r, where)))
    elif where == "salts":
        r.salts[key] = _change(r.salts[key][:-1]) + r.salts[key][-1]
        if r.salts[key] == records[r.seq - 1].salts[key]:
            r.salts[key] = "00" * 16
    else:
        getattr(r, where)[key] = _change(getattr(r, where)[key])
    report = verify(tampered, [head(records)])
    assert not report.ok, (where, key)
    # Even without a checkpoint, any change short of the last record's chain fields shows.
    if not (r.seq == len(records) and where in {"hash"}):
        assert not verify(tampered).ok


@RUNS
@given(chains, st.data())
def test_a_deleted_record_is_detected(records: list[ChainRecord], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(records) - 1))
    tampered = clone(records)
    del tampered[i]
    assert not verify(tampered, [head(records)]).ok
    if i < len(records) - 1:
        assert not verify(tampered).ok


@RUNS
@given(chains.filter(lambda r: len(r) >= 2), st.data())
def test_swapped_records_are_detected(records: list[ChainRecord], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(records) - 2))
    j = data.draw(st.integers(i + 1, len(records) - 1))
    tampered = clone(records)
    tampered[i], tampered[j] = tampered[j], tampered[i]
    assert not verify(tampered).ok
    # Swapping the contents but keeping the sequence numbers in place.
    tampered = clone(records)
    tampered[i].data, tampered[j].data = tampered[j].data, tampered[i].data
    assert not verify(tampered).ok


@RUNS
@given(chains, event_data, st.data())
def test_an_inserted_record_is_detected(
    records: list[ChainRecord], extra: dict[str, Any], data: st.DataObject
) -> None:
    """A record forged before others, hashed onto its predecessor, renumbering the rest.

    (Appending after the last checkpoint is not tampering with anything signed; the report
    says such records are not yet checkpointed.)
    """
    i = data.draw(st.integers(0, len(records) - 1))
    tampered = clone(records)
    prev = tampered[i - 1].hash if i else "0" * 64
    forged = seal(make(i + 1, "event", dict(records[0].data), extra["personal"]), prev)
    for r in tampered[i:]:
        r.seq += 1
    tampered.insert(i, forged)
    assert not verify(tampered, [head(records)]).ok
    assert not verify(tampered).ok


@RUNS
@given(chains, st.data())
def test_a_rehashed_record_is_detected(records: list[ChainRecord], data: st.DataObject) -> None:
    """Edited and re-hashed in place: the next record's link breaks; the last needs a checkpoint."""
    i = data.draw(st.integers(0, len(records) - 1))
    tampered = clone(records)
    r = tampered[i]
    r.data["kind"] = "declined" if r.data["kind"] != "declined" else "accepted"
    seal(r, r.prev_hash)
    assert not verify(tampered, [head(records)]).ok
    if i < len(records) - 1:
        assert not verify(tampered).ok


@RUNS
@given(chains, st.data())
def test_a_truncated_tail_is_detected_against_a_checkpoint(
    records: list[ChainRecord], data: st.DataObject
) -> None:
    keep = data.draw(st.integers(0, len(records) - 1))
    report = verify(records[:keep], [head(records)])
    assert not report.ok
    assert "truncated" in report.message
    # Without a checkpoint it is not an error, but it is not called verified either.
    alone = verify(records[:keep])
    assert alone.ok and "verified" not in alone.message


@RUNS
@given(chains, st.data())
def test_a_full_rewrite_is_detected_against_a_checkpoint(
    records: list[ChainRecord], data: st.DataObject
) -> None:
    checkpoint = head(records)
    i = data.draw(st.integers(0, len(records) - 1))
    rewritten = build_chain(
        [
            {
                "kind": "withdrawn" if n == i else r.data["kind"],
                "version_id": r.data["version_id"],
                "locale": r.data["locale"],
                "seconds": 0,
                "personal": r.personal,
            }
            for n, r in enumerate(records)
        ]
    )
    assert verify(rewritten).ok  # consistent in itself…
    assert not verify(rewritten, [checkpoint]).ok  # …but not the chain that was signed


def test_reports_say_what_they_mean() -> None:
    records = build_chain(
        [
            {
                "kind": "accepted",
                "version_id": 1,
                "locale": None,
                "seconds": n,
                "personal": {"user_id": f"u{n}", "ip": None, "user_agent": None, "context": None},
            }
            for n in range(5)
        ]
    )
    empty = verify([])
    assert empty.ok and empty.message == "the audit log is empty: nothing to verify"
    anchored = verify(records, [sign(KEY, 3, records[2].hash, NOW)])
    assert anchored.anchored
    assert anchored.message.startswith("verified up to sequence 5, anchored by checkpoint #3")
    assert "2 later record(s)" in anchored.message
    unanchored = verify(records)
    assert "truncation or a full rewrite cannot be ruled out" in unanchored.message
    records[1].personal["ip"] = "10.0.0.1"
    bad = verify(records)
    assert bad.message == (
        "FAILED at record 2: ip has a value but none was committed when it was recorded"
    )


@pytest.mark.parametrize("value", [1.5, float("nan")])
def test_floats_never_enter_chain_data(value: float) -> None:
    from tracker.chain.canonical import CanonicalError, canonical_json

    with pytest.raises(CanonicalError):
        canonical_json({"a": value})

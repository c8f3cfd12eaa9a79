"""The audit endpoints on SQLite and PostgreSQL: verify, export, erase, re-acceptance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from tests.audit.helpers import accept, publish
from tests.service.helpers import Clock
from tracker import audit
from tracker.audit import bundle
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.audit_models import AuditRecordRow

EVIDENCE: dict[str, Any] = {
    "ip": "192.0.2.7",
    "user_agent": "Firefox/140",
    "context": {"page": "/join"},
}


def test_verify_endpoint(api: Any, store: Store, settings: Settings, clock: Clock) -> None:
    r = api.get("/v1/admin/audit/verify")
    assert r.status_code == 200
    assert r.json()["message"] == "the audit log is empty: nothing to verify"
    publish(api)
    accept(api, "alice", **EVIDENCE)
    body = api.get("/v1/admin/audit/verify").json()
    assert body["ok"] and not body["anchored"] and body["last_sequence"] == 1
    audit.checkpoint(store, settings, clock.now)
    body = api.get("/v1/admin/audit/verify").json()
    assert body["anchored"] and body["message"].startswith("verified up to sequence 1")
    assert api.get("/v1/admin/audit/verify", key="read").status_code == 403


def test_export_streams_json_lines_and_csv(api: Any, clock: Clock) -> None:
    publish(api, 1, 2)
    accept(api, "alice", 1, **EVIDENCE)
    clock.advance(3)
    accept(api, "bob", 2)
    r = api.get("/v1/admin/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert [x["user_id"] for x in rows] == ["alice", "bob"]
    first = rows[0]
    assert first["sequence"] == 1 and first["prev_hash"] == "0" * 64
    assert first["url"] == "https://policies.example/privacy/v1/"
    assert first["ip"] == "192.0.2.7" and len(first["sha256"]) == 64
    assert rows[1]["prev_hash"] == first["hash"]
    since = (clock.now.date()).isoformat()
    only = api.get(f"/v1/admin/export?since={since}&format=csv")
    table = list(csv.DictReader(io.StringIO(only.text)))
    assert [x["user_id"] for x in table] == ["bob"]
    assert api.get("/v1/admin/export?user_id=alice").text.count("\n") == 1
    assert api.get("/v1/admin/export?policy=nope").status_code == 404
    assert api.get("/v1/admin/export?since=yesterday").status_code == 422
    assert api.get("/v1/admin/export", key="read").status_code == 403
    assert api.get("/v1/admin/export", key=None).status_code == 401


def test_erasure(api: Any, store: Store, settings: Settings, clock: Clock) -> None:
    publish(api)
    accept(api, "alice", **EVIDENCE)
    accept(api, "bob", **EVIDENCE)
    audit.checkpoint(store, settings, clock.now)
    r = api.delete("/v1/admin/users/alice")
    assert r.status_code == 200, r.text
    pseudonym = r.json()["pseudonym"]
    assert pseudonym.startswith("erased:") and r.json()["events"] == 1
    # The old id is gone from every answer and export.
    assert api.get("/v1/users/alice/events").status_code == 404
    status = api.get("/v1/users/alice/status").json()
    assert status["policies"][0]["state"] == "never_accepted"
    exported = api.get("/v1/admin/export").text
    assert "alice" not in exported and "192.0.2.7" in exported  # bob's evidence stays
    assert pseudonym in exported
    stats = api.get("/v1/policies/privacy/versions/1/stats").json()
    assert stats["accepted"] == 2  # counts are kept
    # The chain still verifies, anchored, and the erasure is in it without the id.
    report = audit.verify(store, settings)
    assert report.ok and report.anchored, report.message
    with store.read() as session:
        entries = session.scalars(select(AuditRecordRow)).all()
    assert [e.data["action"] for e in entries] == ["erasure"]
    assert "alice" not in json.dumps(entries[0].data)
    assert api.delete("/v1/admin/users/alice").status_code == 404


def test_forced_reacceptance(api: Any, store: Store, settings: Settings) -> None:
    publish(api)
    for user in ("alice", "bob", "carol"):
        accept(api, user)
    r = api.post(
        "/v1/admin/reacceptance",
        json={"policy": "privacy", "user_ids": ["alice"], "reason": "consent form was broken"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["users"] == 1
    assert api.get("/v1/users/alice/status").json()["policies"][0]["needs_acceptance"]
    assert not api.get("/v1/users/bob/status").json()["policies"][0]["needs_acceptance"]
    r = api.post("/v1/admin/reacceptance", json={"policy": "privacy", "all": True, "reason": "x"})
    assert r.json()["users"] == 2  # alice already needed to
    assert api.get("/v1/users/carol/status").json()["policies"][0]["needs_acceptance"]
    with store.read() as session:
        reasons = [e.data["reason"] for e in session.scalars(select(AuditRecordRow))]
    assert reasons == ["consent form was broken", "x"]
    assert audit.verify(store, settings).ok
    bad = [
        {"policy": "privacy", "reason": "x"},
        {"policy": "privacy", "all": True, "user_ids": ["a"], "reason": "x"},
        {"policy": "privacy", "user_ids": [], "reason": "x"},
        {"policy": "privacy", "all": True},
        {"policy": "privacy", "all": True, "reason": " \t\n"},
    ]
    for body in bad:
        assert api.post("/v1/admin/reacceptance", json=body).status_code == 422, body
    body = {"policy": "nope", "all": True, "reason": "x"}
    assert api.post("/v1/admin/reacceptance", json=body).status_code == 404
    # What the OpenAPI pattern allows is taken: only ASCII whitespace is blank.
    body = {"policy": "privacy", "all": True, "reason": "\x1c"}
    assert api.post("/v1/admin/reacceptance", json=body).status_code == 200


def test_purge_keeps_the_chain_verifiable(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    publish(api)
    accept(api, "old", **EVIDENCE)
    clock.advance(380)
    accept(api, "new", **EVIDENCE)
    audit.checkpoint(store, settings, clock.now)
    clock.advance(30)
    result = audit.purge(store, settings, clock.now)
    assert result.to_dict() == {"ip": 1, "user_agent": 1, "context": 1, "idempotency": 0}
    rows = {x["user_id"]: x for x in map(json.loads, api.get("/v1/admin/export").text.splitlines())}
    assert rows["old"]["ip"] is None and rows["old"]["context"] is None
    assert rows["new"]["ip"] == "192.0.2.7"
    report = audit.verify(store, settings)
    assert report.ok and report.anchored, report.message
    assert audit.purge(store, settings, clock.now).to_dict() == {
        "ip": 0,
        "user_agent": 0,
        "context": 0,
        "idempotency": 0,
    }


def _replays(store: Store) -> list[str]:
    """Every stored idempotent response, each row as text (all its columns)."""
    with store.read() as session:
        rows = session.execute(text("SELECT * FROM idempotency_keys ORDER BY created_at"))
        return [" ".join(map(str, row)) for row in rows]


def _accept_once(api: Any, user: str, key: str, **evidence: Any) -> None:
    body = {"user_id": user, "policy": "privacy", "version": 1, **evidence}
    r = api.post("/v1/acceptances", json=body, headers={"Idempotency-Key": key})
    assert r.status_code in (200, 201), r.text


def test_purge_deletes_stored_idempotent_responses_past_their_retention(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    """A stored response repeats the event (IP address, user agent, context): it is kept
    for retries only, ``retention_idempotency_days`` (1 by default)."""
    publish(api)
    _accept_once(api, "alice", "k-1", **EVIDENCE)
    clock.now += timedelta(hours=20)
    _accept_once(api, "bob", "k-2", **EVIDENCE)
    assert len(_replays(store)) == 2
    assert audit.purge(store, settings, clock.now).idempotency == 0
    clock.now += timedelta(hours=5)  # alice's is 25 hours old, bob's 5
    result = audit.purge(store, settings, clock.now)
    assert result.idempotency == 1 and result.ip == 0
    assert "1 stored idempotent response(s)" in result.summary()
    (left,) = _replays(store)
    assert "bob" in left and "alice" not in left
    with store.read() as session:  # no chain entry for responses alone: they are not evidence
        assert session.scalars(select(AuditRecordRow)).all() == []
    clock.now += timedelta(hours=24)
    kept = audit.purge(store, replace(settings, retention_idempotency_days=0), clock.now)
    assert kept.idempotency == 0 and len(_replays(store)) == 1
    assert audit.purge(store, settings, clock.now).idempotency == 1 and _replays(store) == []


def test_erasure_leaves_no_stored_response_naming_the_user(
    api: Any, store: Store, settings: Settings
) -> None:
    publish(api)
    _accept_once(api, "alice", "0f6d2c1e", ip="198.51.100.23", user_agent="Safari/17")
    _accept_once(api, "alice", "9a8b7c6d", ip="198.51.100.23", user_agent="Safari/17")
    _accept_once(api, "bob", "5e4f3a2b", **EVIDENCE)
    assert sum("alice" in row for row in _replays(store)) == 2
    r = api.delete("/v1/admin/users/alice")
    assert r.status_code == 200, r.text
    rows = _replays(store)
    assert not [row for row in rows if "alice" in row or "198.51.100.23" in row], rows
    assert len(rows) == 1 and "bob" in rows[0]  # another user's retry still replays
    again = api.post(
        "/v1/acceptances",
        json={"user_id": "bob", "policy": "privacy", "version": 1, **EVIDENCE},
        headers={"Idempotency-Key": "5e4f3a2b"},
    )
    assert again.headers["idempotent-replayed"] == "true"
    # An id with non-ASCII characters, escaped in the stored JSON, is found as well.
    _accept_once(api, "zoë", "1c2d3e4f", ip="198.51.100.24")
    assert api.delete("/v1/admin/users/zoë").status_code == 200
    assert [row for row in _replays(store) if "zo" in row or "198.51.100.24" in row] == []
    assert audit.verify(store, settings).ok


def test_evidence_bundle_round_trip(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    publish(api, 1, 2)
    accept(api, "alice", 1, **EVIDENCE)
    accept(api, "bob", 1)
    accept(api, "alice", 2, **EVIDENCE)
    audit.checkpoint(store, settings, clock.now)
    accept(api, "alice", 1)  # after the checkpoint
    data = json.loads(json.dumps(audit.evidence(store, settings, "alice", clock.now)))
    report = bundle.verify(data, trusted=audit.trusted_key(settings))
    assert report.ok, report.problems
    assert report.records == 3 and report.anchored == 2 and report.texts == 2
    data["records"][0]["personal"]["ip"] = "10.0.0.1"
    assert not bundle.verify(data).ok


def test_an_evidence_bundle_shows_only_what_its_records_chain(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    """A bundle as ``evidence`` writes it (an acceptance, an acknowledged notice, a
    withdrawal) verifies; an edit of what its page shows is refused with the reason."""
    publish(api, 1)
    accept(api, "alice", 1, **EVIDENCE)
    publish(api, 1, 2)
    notice = api.get("/v1/users/alice/notices").json()["notices"][0]
    assert api.post(f"/v1/notices/{notice['id']}/ack", key="write").status_code == 201
    r = api.post("/v1/withdrawals", json={"user_id": "alice", "policy": "privacy"})
    assert r.status_code == 201, r.text
    audit.checkpoint(store, settings, clock.now)
    data = json.loads(json.dumps(audit.evidence(store, settings, "alice", clock.now)))
    trusted = audit.trusted_key(settings)
    report = bundle.verify(data, trusted=trusted)
    assert report.ok, report.problems
    assert report.records == 3 and report.unproven_acks == 0
    assert [r["event"]["type"] for r in data["records"]] == ["accepted", "notice_ack", "withdrawn"]
    edits: list[tuple[Callable[[dict[str, Any]], object], str]] = [
        (lambda d: d["records"][0]["event"].update(ip="10.0.0.1"), "readable ip"),
        (lambda d: d["records"][2]["event"].update(type="accepted"), "readable type"),
        (lambda d: d["records"][2]["event"].update(policy="terms"), "shows policy 'terms'"),
        (lambda d: d["versions"][0].update(version=3), "version 3 in versions[]"),
        (lambda d: d["notices"][0].update(acknowledged_by=99), "acknowledged by key 99"),
    ]
    for edit, reason in edits:
        edited = json.loads(json.dumps(data))
        edit(edited)
        refused = bundle.verify(edited, trusted=trusted)
        assert not refused.ok and reason in refused.message, refused.message

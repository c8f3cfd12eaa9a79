"""The audit endpoints on SQLite and PostgreSQL: verify, export, erase, re-acceptance."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select

from tests.audit.helpers import accept, publish
from tests.service.helpers import Clock
from tracker.audit import bundle
from tracker.audit import operations as ops
from tracker.audit.models import AuditRecordRow
from tracker.settings import Settings
from tracker.store import Store

EVIDENCE = {"ip": "192.0.2.7", "user_agent": "Firefox/140", "context": {"page": "/join"}}


def test_verify_endpoint(api: Any, store: Store, settings: Settings, clock: Clock) -> None:
    r = api.get("/v1/admin/audit/verify")
    assert r.status_code == 200
    assert r.json()["message"] == "the audit log is empty: nothing to verify"
    publish(api)
    accept(api, "alice", **EVIDENCE)
    body = api.get("/v1/admin/audit/verify").json()
    assert body["ok"] and not body["anchored"] and body["last_sequence"] == 1
    ops.checkpoint(store, settings, clock.now)
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
    ops.checkpoint(store, settings, clock.now)
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
    report = ops.verify(store, settings)
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
    assert ops.verify(store, settings).ok
    bad = [
        {"policy": "privacy", "reason": "x"},
        {"policy": "privacy", "all": True, "user_ids": ["a"], "reason": "x"},
        {"policy": "privacy", "user_ids": [], "reason": "x"},
        {"policy": "privacy", "all": True},
    ]
    for body in bad:
        assert api.post("/v1/admin/reacceptance", json=body).status_code == 422, body
    body = {"policy": "nope", "all": True, "reason": "x"}
    assert api.post("/v1/admin/reacceptance", json=body).status_code == 404


def test_purge_keeps_the_chain_verifiable(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    publish(api)
    accept(api, "old", **EVIDENCE)
    clock.advance(380)
    accept(api, "new", **EVIDENCE)
    ops.checkpoint(store, settings, clock.now)
    clock.advance(30)
    result = ops.purge(store, settings, clock.now)
    assert result.to_dict() == {"ip": 1, "user_agent": 1, "context": 1}
    rows = {x["user_id"]: x for x in map(json.loads, api.get("/v1/admin/export").text.splitlines())}
    assert rows["old"]["ip"] is None and rows["old"]["context"] is None
    assert rows["new"]["ip"] == "192.0.2.7"
    report = ops.verify(store, settings)
    assert report.ok and report.anchored, report.message
    assert ops.purge(store, settings, clock.now).to_dict() == {
        "ip": 0,
        "user_agent": 0,
        "context": 0,
    }


def test_evidence_bundle_round_trip(
    api: Any, store: Store, settings: Settings, clock: Clock
) -> None:
    publish(api, 1, 2)
    accept(api, "alice", 1, **EVIDENCE)
    accept(api, "bob", 1)
    accept(api, "alice", 2, **EVIDENCE)
    ops.checkpoint(store, settings, clock.now)
    accept(api, "alice", 1)  # after the checkpoint
    data = json.loads(json.dumps(ops.evidence(store, settings, "alice", clock.now)))
    report = bundle.verify(data, trusted=ops.trusted_key(settings))
    assert report.ok, report.problems
    assert report.records == 3 and report.anchored == 2 and report.texts == 2
    data["records"][0]["personal"]["ip"] = "10.0.0.1"
    assert not bundle.verify(data).ok

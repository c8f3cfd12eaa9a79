"""Erasure reaches the webhook outbox; the service checkpoints on its own; the migration
chains events stored before it; a notice acknowledgement through the API joins the chain."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from tests.audit.helpers import accept, publish
from tests.service.helpers import Clock
from tracker import audit, migrations
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.audit_models import AuditRecordRow, CheckpointRow
from tracker.store.notices import EndpointRow, MessageRow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _subscribe(store: Store, now: datetime) -> None:
    """An endpoint for every event type, stored directly (no URL checks needed here)."""
    store.write(
        lambda s: s.add(
            EndpointRow(
                url="https://hooks.example/in",
                event_types="acceptance.recorded,notice.created,policy.version_published",
                secret="whsec_" + "a" * 32,
                created_at=now,
            )
        )
    )


def test_erasure_rewrites_the_user_id_in_stored_webhook_payloads(
    api: Any, store: Store, clock: Clock
) -> None:
    _subscribe(store, clock.now)
    publish(api)
    accept(api, "alice", ip="192.0.2.7")
    accept(api, "bob")
    with store.read() as session:
        before = [m.data for m in session.scalars(select(MessageRow))]
    assert any("alice" in json.dumps(d) for d in before)  # the test would prove nothing
    r = api.delete("/v1/admin/users/alice")
    assert r.status_code == 200, r.text
    pseudonym = r.json()["pseudonym"]
    with store.read() as session:
        after = [m.data for m in session.scalars(select(MessageRow))]
        raw = [str(v) for (v,) in session.execute(text("SELECT data FROM outbox_messages"))]
    assert len(after) == len(before)
    assert not any("alice" in json.dumps(d) for d in after)
    assert not any("alice" in v for v in raw)
    assert any(d.get("user_id") == pseudonym for d in after)
    assert any(d.get("user_id") == "bob" for d in after)  # others untouched


def test_the_service_checkpoints_on_its_own(settings: Settings, store: Store, keys: Any) -> None:
    periodic = replace(settings, audit_checkpoint_seconds=0.05, audit_purge_seconds=0.05)
    app = create_app(periodic, store=store)  # the real lifespan starts the tasks
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        body = {"policies": [_policy()]}
        assert client.post("/v1/admin/versions", json=body, headers=admin).status_code in (
            200,
            201,
        )
        r = client.post(
            "/v1/acceptances",
            json={"user_id": "alice", "policy": "privacy", "version": 1},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with store.read() as session:
                made = list(session.scalars(select(CheckpointRow)))
            if made:
                break
            time.sleep(0.05)
        assert made and made[0].sequence == 1
    # Shut down cleanly: the tasks are cancelled and no new checkpoint appears.
    with store.read() as session:
        count = len(list(session.scalars(select(CheckpointRow))))
    time.sleep(0.2)
    with store.read() as session:
        assert len(list(session.scalars(select(CheckpointRow)))) == count
    report = audit.verify(store, periodic)
    assert report.anchored, report.message


def _policy() -> dict[str, Any]:
    from tests.service.helpers import policy, version

    return policy("privacy", version(1, "major"))


def test_the_migration_chains_events_stored_before_it(settings: Settings) -> None:
    from tracker.policy import normalise_text, sha256_text

    store = Store.open(settings)
    try:
        migrations.upgrade(store.engine, "0002")
        body = normalise_text("Privacy", "We keep little.\n")
        sqlite = store.dialect == "sqlite"
        at = datetime(2025, 1, 1, tzinfo=UTC)

        def when(microsecond: int) -> datetime:
            value = at.replace(microsecond=microsecond)
            return value.replace(tzinfo=None) if sqlite else value

        with store.engine.begin() as conn:  # the schema of revision 0002, no ORM models
            conn.execute(
                text(
                    "INSERT INTO policies (slug, title, path, aliases, acceptance_required,"
                    " notice_days, withdrawn, updated_at) VALUES ('privacy', 'Privacy',"
                    " 'policy/privacy.md', '[]', :t, 30, :f, :at)"
                ),
                {"t": True, "f": False, "at": when(0)},
            )
            pid = conn.execute(text("SELECT id FROM policies")).scalar_one()
            conn.execute(
                text(
                    'INSERT INTO versions (policy_id, number, "commit", published_at,'
                    " effective_on, significance, significance_source, summary, title, author,"
                    " path, text, sha256, created_at) VALUES (:p, 1, :c, :at, :on, 'major',"
                    " 'declared', '', 'Privacy', '', 'policy/privacy.md', :body, :sha, :at)"
                ),
                {
                    "p": pid,
                    "c": "1" * 40,
                    "at": when(0),
                    "on": at.date(),
                    "body": body,
                    "sha": sha256_text(body),
                },
            )
            vid = conn.execute(text("SELECT id FROM versions")).scalar_one()
            for i in range(5):
                conn.execute(
                    text(
                        "INSERT INTO events (user_id, policy_id, version_id, kind, method, ip,"
                        " created_at) VALUES (:u, :p, :v, 'accepted', 'api', :ip, :at)"
                    ),
                    {
                        "u": f"user{i}",
                        "p": pid,
                        "v": vid,
                        "ip": "192.0.2.1" if i % 2 else None,
                        "at": when(i),
                    },
                )
            conn.execute(  # what the tracker kept beside them (verify checks it)
                text(
                    "INSERT INTO consents (user_id, policy_id, last_event_id, last_kind,"
                    " last_version_id, accepted_version_id, accepted_at) SELECT user_id,"
                    " policy_id, id, kind, version_id, version_id, created_at FROM events"
                )
            )
        migrations.upgrade(store.engine)
        report = audit.verify(store, settings)
        assert report.ok and report.last_seq == 5 and report.pending == 0, report.message
        with store.read() as session:
            seqs = [s for (s,) in session.execute(text("SELECT chain_seq FROM events ORDER BY id"))]
        assert seqs == [1, 2, 3, 4, 5]
    finally:
        store.dispose()


def test_a_notice_acknowledged_through_the_api_joins_the_chain(
    api: Any, store: Store, settings: Settings
) -> None:
    publish(api, 1)
    accept(api, "alice", 1)
    publish(api, 1, 2)
    notice = api.get("/v1/users/alice/notices").json()["notices"][0]
    r = api.post(f"/v1/notices/{notice['id']}/ack", key="write")
    assert r.status_code == 201, r.text
    with store.read() as session:
        acks = list(
            session.scalars(select(AuditRecordRow).where(AuditRecordRow.type == "notice_ack"))
        )
    assert len(acks) == 1 and acks[0].user_id == "alice"
    assert acks[0].data["notice_id"] == notice["id"]
    report = audit.verify(store, settings)
    assert report.ok and report.last_seq == 2, report.message
    # Editing the acknowledgement shows.
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET user_id = 'mallory'"))
    assert not audit.verify(store, settings).ok

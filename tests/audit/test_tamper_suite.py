"""Hand edits of the database, each kind tried on SQLite and PostgreSQL: ``verify`` with a
checkpoint kept outside the database catches every one, and without any checkpoint it
catches every kind that can be caught without one (all but truncation and a rewrite with
recomputed hashes). Each edit runs in a transaction that ``verify`` reads and that is then
rolled back, so every kind starts from the same honest database.

The suite prints caught/tried for both; ``/v1/admin/audit/verify`` answers what the CLI's
``verify --json`` prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.audit.helpers import accept, publish
from tests.service.helpers import Clock
from tracker import audit
from tracker.audit.checkpoints import trusted_key
from tracker.audit.verification import verify_session
from tracker.chain.checkpoint import Checkpoint
from tracker.chain.records import link
from tracker.cli import cli
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.chain import records
from tracker.store.sealer import flush

EVIDENCE = {"ip": "192.0.2.7", "user_agent": "Firefox/140", "context": {"page": "/join"}}
Edit = Callable[[Session], None]


def sql(*statements: str) -> Edit:
    def run(session: Session) -> None:
        for statement in statements:
            session.execute(text(statement))

    return run


def _rechain_from(seq: int) -> Edit:
    """After an edit at ``seq``, recompute every later hash and the head: a rewrite that
    leaves the chain internally consistent (only a checkpoint shows it)."""

    def run(session: Session) -> None:
        session.flush()
        prev = None
        for record in records(session):
            if record.seq < seq:
                prev = record.hash
                continue
            assert prev is not None
            new_hash = link(prev, record.body_digest())
            if record.type == "event":
                session.execute(
                    text("UPDATE events SET chain_prev = :p, chain_hash = :h WHERE chain_seq = :s"),
                    {"p": prev, "h": new_hash, "s": record.seq},
                )
            else:
                session.execute(
                    text("UPDATE audit_records SET prev_hash = :p, hash = :h WHERE seq = :s"),
                    {"p": prev, "h": new_hash, "s": record.seq},
                )
            prev = new_hash
        session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})

    return run


def _then(*edits: Edit) -> Edit:
    def run(session: Session) -> None:
        for edit in edits:
            edit(session)

    return run


HEAD = "(SELECT seq FROM audit_head WHERE id = 1)"
COPY_EVENT = (
    "INSERT INTO events (user_id, policy_id, version_id, kind, method, created_at, "
    "commitments, chain_seq, chain_prev, chain_hash) SELECT user_id, policy_id, version_id, "
    "kind, method, created_at, commitments, {seq}, chain_prev, chain_hash FROM events "
    "WHERE chain_seq = 3"
)
COPY_RECORD = (
    "INSERT INTO audit_records (seq, type, user_id, data, commitments, prev_hash, hash, "
    "created_at) SELECT {seq}, type, user_id, data, commitments, prev_hash, hash, "
    "created_at FROM audit_records WHERE seq = (SELECT min(seq) FROM audit_records)"
)
KINDS: dict[str, tuple[Edit, bool]] = {
    # name: (the edit, whether it can be caught without a checkpoint: not truncation, a rewrite
    # with recomputed hashes, nor edits of stored checkpoints, which need no edit to be removed)
    "event ip edited": (sql("UPDATE events SET ip = '10.9.9.9' WHERE chain_seq = 3"), True),
    "event user agent edited": (
        sql("UPDATE events SET user_agent = 'curl' WHERE chain_seq = 3"),
        True,
    ),
    "event context edited": (
        sql("""UPDATE events SET context = '{"page": "/x"}' WHERE chain_seq = 3"""),
        True,
    ),
    "event moved to another user": (
        sql("UPDATE events SET user_id = 'user5' WHERE chain_seq = 2"),
        True,
    ),
    "event kind edited": (sql("UPDATE events SET kind = 'declined' WHERE chain_seq = 4"), True),
    "event method edited": (
        sql("UPDATE events SET method = 'continued_use' WHERE chain_seq = 4"),
        True,
    ),
    "event locale edited": (sql("UPDATE events SET locale = 'fr' WHERE chain_seq = 4"), True),
    "event version re-pointed": (
        sql("UPDATE events SET version_id = version_id + 1 WHERE chain_seq = 2"),
        True,
    ),
    "event key edited": (sql("UPDATE events SET api_key_id = NULL WHERE chain_seq = 2"), True),
    "event time edited": (
        sql("UPDATE events SET created_at = created_at + INTERVAL '1 day' WHERE chain_seq = 5")
        if False
        else sql(
            "UPDATE events SET created_at = (SELECT max(created_at) FROM events) "
            "WHERE chain_seq = 1"
        ),
        True,
    ),
    "event deleted": (
        sql(
            "DELETE FROM consents WHERE last_event_id IN (SELECT id FROM events "
            "WHERE chain_seq = 3)",
            "DELETE FROM events WHERE chain_seq = 3",
        ),
        True,
    ),
    "event hand-inserted without a sequence": (
        sql(
            "INSERT INTO events (user_id, policy_id, version_id, kind, method, created_at) "
            "SELECT 'mallory', policy_id, version_id, kind, method, created_at FROM events "
            "WHERE chain_seq = 1"
        ),
        True,
    ),
    "event numbered after the head": (sql(COPY_EVENT.format(seq=f"{HEAD} + 1")), True),
    "event numbered far after the head": (sql(COPY_EVENT.format(seq=f"{HEAD} + 1000")), True),
    "event hash edited": (
        sql("UPDATE events SET chain_hash = chain_prev WHERE chain_seq = 3"),
        True,
    ),
    "event previous hash edited": (
        sql("UPDATE events SET chain_prev = chain_hash WHERE chain_seq = 3"),
        True,
    ),
    "event sequences swapped": (
        sql(
            "UPDATE events SET chain_seq = -3 WHERE chain_seq = 3",
            "UPDATE events SET chain_seq = 3 WHERE chain_seq = 4",
            "UPDATE events SET chain_seq = 4 WHERE chain_seq = -3",
        ),
        True,
    ),
    "event ip salt edited": (
        sql("UPDATE events SET ip_salt = user_id_salt WHERE chain_seq = 3"),
        True,
    ),
    "event ip and salt blanked with no purge record": (
        sql("UPDATE events SET ip = NULL, ip_salt = NULL WHERE chain_seq = 3"),
        True,
    ),
    "event user agent and salt blanked with no purge record": (
        sql("UPDATE events SET user_agent = NULL, user_agent_salt = NULL WHERE chain_seq = 4"),
        True,
    ),
    "event context and salt blanked with no purge record": (
        sql("UPDATE events SET context = NULL, context_salt = NULL WHERE chain_seq = 4"),
        True,
    ),
    "event disowned (user replaced by a pseudonym)": (
        sql(
            "UPDATE events SET user_id = 'erased:feedface', user_id_salt = NULL WHERE chain_seq = 2"
        ),
        True,
    ),
    "event re-pointed to an erasure's pseudonym": (
        sql(
            "UPDATE events SET user_id = (SELECT min(user_id) FROM events WHERE user_id LIKE "
            "'erased:%'), user_id_salt = NULL WHERE chain_seq = 2"
        ),
        True,
    ),
    "consents: major_change user turned accepted": (
        sql(
            "UPDATE consents SET accepted_version_id = (SELECT max(id) FROM versions), "
            "last_version_id = (SELECT max(id) FROM versions) WHERE user_id = 'user3'"
        ),
        True,
    ),
    "consents row deleted": (sql("DELETE FROM consents WHERE user_id = 'user4'"), True),
    "consents row inserted": (
        sql(
            "INSERT INTO consents (user_id, policy_id, last_event_id, last_kind, "
            "last_version_id, accepted_version_id) SELECT 'ghost', policy_id, last_event_id, "
            "last_kind, last_version_id, accepted_version_id FROM consents WHERE user_id = "
            "'user3'"
        ),
        True,
    ),
    "consents latest kind edited": (
        sql("UPDATE consents SET last_kind = 'accepted' WHERE user_id = 'user1'"),
        True,
    ),
    "version numbers swapped": (
        sql(
            "UPDATE versions SET number = -1 WHERE number = 1",
            "UPDATE versions SET number = 1 WHERE number = 2",
            "UPDATE versions SET number = 2 WHERE number = -1",
        ),
        True,
    ),
    "version relabelled": (sql("UPDATE versions SET number = 7 WHERE number = 2"), True),
    "version text edited": (sql("UPDATE versions SET text = text || ' ' WHERE number = 1"), True),
    "audit record data edited": (
        sql("UPDATE audit_records SET data = '{\"action\": \"purge\"}' WHERE type = 'audit'"),
        True,
    ),
    "audit record deleted": (
        sql("DELETE FROM audit_records WHERE seq = (SELECT min(seq) FROM audit_records)"),
        True,
    ),
    "audit record numbered after the head": (sql(COPY_RECORD.format(seq=f"{HEAD} + 1")), True),
    "head moved back": (sql("UPDATE audit_head SET seq = seq - 1 WHERE id = 1"), True),
    "truncated (last records removed, head moved back)": (
        sql(
            f"DELETE FROM audit_records WHERE seq = {HEAD}",
            # consents name their last event (a foreign key PostgreSQL enforces)
            "UPDATE consents SET last_event_id = NULL WHERE last_event_id IN "
            f"(SELECT id FROM events WHERE chain_seq = {HEAD})",
            f"DELETE FROM events WHERE chain_seq = {HEAD}",
            "UPDATE audit_head SET seq = seq - 1, hash = COALESCE("
            f"(SELECT chain_hash FROM events WHERE chain_seq = {HEAD} - 1), "
            f"(SELECT hash FROM audit_records WHERE seq = {HEAD} - 1)) WHERE id = 1",
        ),
        False,
    ),
    "rewritten with recomputed hashes": (
        _then(
            sql("UPDATE events SET method = 'continued_use' WHERE chain_seq = 4"), _rechain_from(4)
        ),
        False,
    ),
    "stored checkpoint forged": (
        sql(
            "UPDATE audit_checkpoints SET head_hash = "
            "(SELECT chain_hash FROM events WHERE chain_seq = 1)"
        ),
        False,  # without a checkpoint the stored ones may simply be deleted
    ),
    "stored checkpoint moved forward": (
        sql("UPDATE audit_checkpoints SET sequence = sequence + 5"),
        False,  # without a checkpoint the stored ones may simply be deleted
    ),
}


@pytest.fixture
def honest(api: Any, clock: Clock, store: Store, settings: Settings) -> Checkpoint:
    """Two versions; users accept (user3 only version 1: major_change), decline, get erased
    and purged; then a checkpoint, kept outside (returned) and in the database."""
    publish(api, 1)
    for i in range(6):
        accept(api, f"user{i}", 1, **EVIDENCE)
        clock.advance(1)
    publish(api, 1, 2)
    accept(api, "user0", 2, **EVIDENCE)
    accept(api, "user4", 2, **EVIDENCE)
    r = api.post("/v1/declines", json={"user_id": "user1", "policy": "privacy", "version": 2})
    assert r.status_code == 201
    accept(api, "user9", 2, **EVIDENCE)
    assert api.delete("/v1/admin/users/user9").status_code == 200
    flush(store.engine)
    cp = audit.checkpoint(store, settings, clock.now)
    assert audit.verify(store, settings, [cp]).ok
    return cp


def _verify(store: Store, edit: Edit, external: list[Checkpoint], key: Any, keep: bool) -> Any:
    with store.writes() as session:
        if not keep:
            session.execute(text("DELETE FROM audit_checkpoints"))
        edit(session)
        session.flush()
        report = verify_session(session, external, key)
        session.rollback()
    return report


def test_every_kind_of_hand_edit_is_caught(
    honest: Checkpoint, store: Store, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    key = trusted_key(settings)
    assert verify_session_ok(store, honest, key)
    caught_with, caught_without, catchable = [], [], []
    for name, (edit, without) in KINDS.items():
        report = _verify(store, edit, [honest], key, keep=True)
        if not report.ok:
            caught_with.append(name)
        if without:
            catchable.append(name)
            if not _verify(store, edit, [], key, keep=False).ok:
                caught_without.append(name)
    with capsys.disabled():
        print(
            f"\n[{store.dialect}] tamper kinds caught with a checkpoint: "
            f"{len(caught_with)}/{len(KINDS)}; without one: "
            f"{len(caught_without)}/{len(catchable)} of the kinds catchable without one"
        )
    assert len(KINDS) >= 30
    assert sorted(set(catchable) - set(caught_without)) == []
    assert sorted(set(KINDS) - set(caught_with)) == []


def verify_session_ok(store: Store, cp: Checkpoint, key: Any) -> bool:
    return bool(_verify(store, sql(), [cp], key, keep=True).ok)


def test_the_api_reports_what_the_cli_reports(
    honest: Checkpoint, api: Any, store: Store, settings: Settings, db_url: str
) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(COPY_EVENT.format(seq=f"{HEAD} + 1")))
    answer = api.get("/v1/admin/audit/verify").json()
    done = CliRunner().invoke(
        cli,
        ["verify", "--json", "--database-url", db_url],
        env={"POLICY_TRACKER_AUDIT_SIGNING_KEY": settings.audit_signing_key},
    )
    assert done.exit_code == 1
    assert json.loads(done.stdout) == answer
    assert answer["ok"] is False and "after the chain head" in answer["message"]


@pytest.mark.parametrize("stray", ["event", "record"])
def test_a_row_past_the_head_never_fails_a_write(
    honest: Checkpoint, server: str, keys: dict[str, str], store: Store, stray: str
) -> None:
    """A row inserted by hand with the number the next write needs: over real HTTP the
    writes that chain an event (an acceptance) and an audit record (an erasure) answer 2xx,
    every event is sealed after the row, and ``verify`` still reports the row."""
    copy = COPY_EVENT if stray == "event" else COPY_RECORD
    with store.engine.begin() as conn:
        taken = conn.execute(text(f"SELECT {HEAD}")).scalar_one() + 1
        conn.execute(text(copy.format(seq=taken)))
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {keys['admin']}"}) as c:
        before = c.get("/v1/admin/audit/verify").json()
        assert before["ok"] is False and "after the chain head" in before["message"]
        # First the write that needs the row's number, then the other kind.
        writes = [("POST", "/v1/acceptances", user) for user in ("user7", "user8")]
        writes.insert(0 if stray == "record" else 1, ("DELETE", "/v1/admin/users/user5", ""))
        for method, path, user in writes:
            body = {"user_id": user, "policy": "privacy", "version": 2, **EVIDENCE}
            r = c.request(method, path, json=body if user else None)
            assert r.status_code in (200, 201), r.text
            flush(store.engine)  # PostgreSQL: the sealer has sealed the new event
            with store.engine.connect() as conn:
                unsealed = conn.execute(text("SELECT count(*) FROM events WHERE chain_seq IS NULL"))
                assert unsealed.scalar_one() == 0
        after = c.get("/v1/admin/audit/verify").json()
    assert after["ok"] is False
    # at the row, or (an event beside a record with its number) the one after it
    assert after["problem"]["sequence"] in (taken, taken + 1), after["problem"]
    with store.engine.connect() as conn:
        head = conn.execute(text(f"SELECT {HEAD}")).scalar_one()
        new = conn.execute(
            text("SELECT min(chain_seq) FROM events WHERE user_id = 'user8'")
        ).scalar_one()
    assert taken < new <= head

"""The counts the database keeps for the console are the API's, counted anew, after every
kind of write: acceptances, declines, withdrawals, an imported acceptance older than the
user's first, acknowledged notices, an erasure, a purge, a re-acceptance request, a new
publication and its fan-out; and after events deleted or inserted by hand, many in one
statement. On PostgreSQL, again after the deltas are folded into the counts. Made by the
migration from the rows as they are, they are the same."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, select

from tests.api import Api
from tests.notices.helpers import accept, publish
from tests.service.helpers import Clock, version
from tracker import audit, migrations
from tracker.settings import Settings
from tracker.store import Store, counts, load_snapshot
from tracker.store import dashboard as d
from tracker.store.events import version_stats
from tracker.store.models import ConsentRow, EventRow
from tracker.store.notices.queries import notice_stats


def _first_days(store: Store, version_id: int) -> list[tuple[date, int]]:
    """The adoption curve counted from the events: users by the day of their first."""
    with store.read() as session:
        rows = session.execute(
            select(EventRow.user_id, EventRow.created_at).where(
                EventRow.version_id == version_id, EventRow.kind == "accepted"
            )
        ).all()
    first: dict[str, datetime] = {}
    for user, at in rows:
        first[user] = min(at, first.get(user, at))
    return sorted(Counter(at.date() for at in first.values()).items())


def _kept(store: Store) -> dict[int, object]:
    """Per version: (figures, notices, adoption days) as the console reads them."""
    with store.read() as session:
        policy = load_snapshot(session).policy("privacy")
        return {
            v.number: (
                d.version_figures(session, policy, v),
                counts.notice_figures(session, v.id),
                d.adoption(session, v.id),
            )
            for v in policy.versions
        }


def _check(store: Store) -> dict[int, object]:
    """The console's counts equal the API's counted anew (and on PostgreSQL still do once
    compacted); they are returned."""
    with store.read() as session:
        policy = load_snapshot(session).policy("privacy")
        anew: dict[int, object] = {
            v.number: (
                version_stats(session, policy, v),
                notice_stats(session, v.id),
                _first_days(store, v.id),
            )
            for v in policy.versions
        }
    assert _kept(store) == anew
    store.write(counts.compact)
    assert _kept(store) == anew
    return anew


def _post(api: Api, path: str, body: dict[str, object], key: str = "write") -> None:
    r = api.post(path, json=body, key=key)
    assert r.status_code in (200, 201), r.text


def test_counts_follow_every_kind_of_write(
    api: Api, store: Store, settings: Settings, clock: Clock
) -> None:
    publish(api, version(1, "major"), version(2, "minor"), version(3, "major"))
    users = [f"u-{n:02}" for n in range(12)]
    for n, user in enumerate(users):
        accept(api, user, 1 + n % 3)
        clock.now += timedelta(hours=7)
    _check(store)
    # Declines, withdrawals, acceptance again, and of an older version after a newer one.
    for user in users[:3]:
        _post(api, "/v1/declines", {"user_id": user, "policy": "privacy", "version": 3})
    _post(api, "/v1/withdrawals", {"user_id": users[4], "policy": "privacy"})
    accept(api, users[0], 3)
    accept(api, users[5], 1)
    clock.advance(2)
    accept(api, users[4], 3)
    # Imported acceptances: one older than the user's first (it moves them to its day),
    # one of a user with none.
    for user, at in ((users[2], clock.now - timedelta(days=40)), ("imp", clock.now)):
        imported = {
            "user_id": user,
            "policy": "privacy",
            "version": 3,
            "method": "import",
            "accepted_at": at.isoformat(),
        }
        _post(api, "/v1/acceptances", imported, key="admin")
    _check(store)
    # A new major version: notices for everyone who accepted, superseding none yet; one
    # acknowledged, one answered by an acceptance.
    publish(api, version(4, "major", published=clock.now))
    notices = api.get(f"/v1/users/{users[1]}/notices", key="read").json()["notices"]
    assert api.post(f"/v1/notices/{notices[0]['id']}/ack", key="write").status_code == 201
    accept(api, users[6], 4)
    clock.advance(1)
    _check(store)
    # Another: the pending notices of version 4 are superseded.
    publish(api, version(5, "major", published=clock.now))
    accept(api, users[7], 5)
    _check(store)
    # Erasure renames (nothing moves); a purge blanks fields (nothing moves); re-acceptance
    # withdraws everyone's acceptance.
    assert api.delete(f"/v1/admin/users/{users[8]}").status_code == 200
    clock.advance(400)
    audit.purge(store, settings, clock.now)
    _post(api, "/v1/admin/reacceptance", {"policy": "privacy", "reason": "x", "all": True}, "admin")
    accept(api, users[9], 5)
    kept = _check(store)
    # Counted by the migration from the rows as they are: the same.
    migrations.downgrade(store.engine, "0008")
    migrations.upgrade(store.engine)
    assert _check(store) == kept


def test_events_by_hand_many_in_one_statement(api: Api, store: Store, clock: Clock) -> None:
    """The tracker never deletes an event and writes one a statement; by hand, many rows of
    one user in one statement still count that user once, on the day of their first."""
    publish(api, version(1, "major"))
    accept(api, "ann", 1)
    accept(api, "bob", 1)
    with store.read() as session:
        row = session.scalars(select(EventRow).where(EventRow.user_id == "ann")).one()
        template = {
            c: getattr(row, c) for c in ("policy_id", "version_id", "kind", "method", "user_id")
        }
    days = [5, 2, 9]  # after ann's first, before it, after
    with store.engine.begin() as conn:
        for user in ("ann", "cy"):
            rows = [
                {**template, "user_id": user, "created_at": clock.now + timedelta(days=n)}
                for n in days
            ]
            conn.execute(insert(EventRow).values(rows))
    _check(store)
    # (An event a consent points at cannot go.)
    unreferenced = EventRow.id.not_in(
        select(ConsentRow.last_event_id).where(ConsentRow.last_event_id.is_not(None))
    )
    with store.engine.begin() as conn:
        # ann's first (day 2) and day 5 at once: the first is the one through the API again
        early = EventRow.created_at < clock.now + timedelta(days=6)
        conn.execute(delete(EventRow).where(EventRow.user_id == "ann", unreferenced, early))
        conn.execute(delete(EventRow).where(EventRow.user_id == "cy"))
    _check(store)
    with store.engine.begin() as conn:
        conn.execute(delete(EventRow).where(unreferenced))
    _check(store)

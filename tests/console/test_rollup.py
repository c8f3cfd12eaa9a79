"""The adoption roll-up extended day by day holds what it holds when built in one go."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tests.api import Api
from tests.notices.helpers import accept, publish
from tests.service.helpers import Clock, version
from tracker.store import Store, load_snapshot
from tracker.store import dashboard as d


def _rows(store: Store, version_id: int, clock: Clock) -> list[tuple[date, int]]:
    with store.read() as session:
        return d.adoption(session, version_id, clock().date())


def _refresh(store: Store, version_id: int, clock: Clock) -> None:
    today = clock().date()

    def work(session: Session) -> None:
        d.refresh_adoption(session, version_id, today)

    store.write(work)


def test_the_roll_up_extended_by_day_equals_one_built_at_once(
    api: Api, store: Store, clock: Clock
) -> None:
    publish(api, version(1, "major", published=clock() - timedelta(days=1)))
    with store.read() as session:
        version_id = load_snapshot(session).policy("privacy").version(1).id
    days = [["a", "b"], ["c", "a"], [], ["d", "e", "b", "f"], ["g"]]
    for users in days:
        for user in users:
            accept(api, user, 1)
            clock.now += timedelta(minutes=1)
        _refresh(store, version_id, clock)
        clock.now += timedelta(days=1)
    _refresh(store, version_id, clock)
    extended = _rows(store, version_id, clock)
    with store.engine.begin() as conn:
        conn.execute(delete(d.AdoptionRollupRow))
    _refresh(store, version_id, clock)
    assert _rows(store, version_id, clock) == extended
    # b accepted again on day 3 and counts once; no row for day 2; today: none yet
    assert [n for _, n in extended] == [2, 1, 3, 1, 0]
    assert sum(n for _, n in extended) == 7

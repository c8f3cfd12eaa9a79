"""The console's webhook figures of the last 24 hours read an index, not every delivery and
attempt ever made: a major version's fan-out to a million users with two endpoints makes two
million deliveries, and the overview counts the day's on every view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.console.helpers import explain, sent_statements
from tracker.store import Store
from tracker.store.dashboard import deliveries_since, endpoint_figures, since_hours
from tracker.store.notices.tables import AttemptRow, DeliveryRow, EndpointRow, MessageRow

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAYS = 40
PER_DAY = 600
STATES = ("delivered", "delivered", "delivered", "pending", "dead")


def _fill(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two endpoints, one message, PER_DAY deliveries a day for DAYS days, one attempt each."""
    deliveries = []
    attempts = []
    for i in range(DAYS * PER_DAY):
        made = NOW - timedelta(minutes=i * 24 * 60 // PER_DAY, seconds=7)
        state = STATES[i % len(STATES)]
        deliveries.append(
            {
                "id": i + 1,
                "message_id": 1,
                "endpoint_id": 1 + i % 2,
                "state": state,
                "attempts": 1,
                "next_attempt_at": made,
                "created_at": made,
            }
        )
        attempts.append(
            {
                "delivery_id": i + 1,
                "attempt": 1,
                "started_at": made,
                "duration_ms": 10 + i % 90,
                "status": 200 if state == "delivered" else 500,
            }
        )
    with store.engine.begin() as conn:
        conn.execute(
            insert(EndpointRow),
            [
                {
                    "id": n,
                    "url": f"http://127.0.0.1:9/{n}",
                    "event_types": "notice.created",
                    "secret": "whsec_x",
                    "created_at": NOW - timedelta(days=DAYS),
                }
                for n in (1, 2)
            ],
        )
        conn.execute(
            insert(MessageRow),
            [
                {
                    "id": 1,
                    "webhook_id": "msg_1",
                    "event_type": "notice.created",
                    "data": {},
                    "created_at": NOW - timedelta(days=DAYS),
                }
            ],
        )
        conn.execute(insert(DeliveryRow), deliveries)
        conn.execute(insert(AttemptRow), attempts)
        conn.exec_driver_sql("ANALYZE")
    return deliveries, attempts


def test_the_day_s_webhook_figures_read_their_indexes(store: Store) -> None:
    deliveries, attempts = _fill(store)
    since = since_hours(NOW, 24)
    with Session(store.engine) as session, sent_statements(store) as sent:
        by_state = deliveries_since(session, since)
        figures = endpoint_figures(session, since)
    day = [d for d in deliveries if d["created_at"] >= since]
    assert len(day) in (PER_DAY, PER_DAY + 1)
    expected: dict[str, int] = {}
    for d in day:
        expected[d["state"]] = expected.get(d["state"], 0) + 1
    assert by_state == expected
    for endpoint in (1, 2):
        mine = [d for d in day if d["endpoint_id"] == endpoint]
        assert figures[endpoint].attempts == len(mine)
        assert figures[endpoint].succeeded == sum(d["state"] == "delivered" for d in mine)
        ids = {d["id"] for d in mine}
        ms = sorted(a["duration_ms"] for a in attempts if a["delivery_id"] in ids)
        assert figures[endpoint].p50_ms == ms[len(ms) // 2]
        assert figures[endpoint].p95_ms == ms[int(0.95 * len(ms))]
        every = [d for d in deliveries if d["endpoint_id"] == endpoint]
        assert figures[endpoint].dead == sum(d["state"] == "dead" for d in every)
        assert figures[endpoint].pending == sum(d["state"] == "pending" for d in every)

    by_created = [s for s in sent if "webhook_deliveries.created_at" in s[0]]
    assert by_created, sent
    for statement in by_created:
        plan = explain(store, statement)
        assert "ix_webhook_deliveries_state_created_at" in plan, plan


def test_the_day_s_attempt_figures_read_their_index(store: Store) -> None:
    _fill(store)
    with Session(store.engine) as session, sent_statements(store) as sent:
        endpoint_figures(session, since_hours(NOW, 24))
    by_started = [s for s in sent if "webhook_attempts.started_at" in s[0]]
    assert len(by_started) == 2, sent  # the counts and the latencies
    for statement in by_started:
        plan = explain(store, statement)
        assert "ix_webhook_attempts_started_at" in plan, plan
        if store.dialect == "sqlite":  # the day's attempts joined by key: no table read whole
            assert "SCAN webhook_" not in plan, plan


def test_the_dead_and_pending_counts_seek_each_endpoint(store: Store) -> None:
    """Deliveries dead or pending now, of every day: on SQLite one range of (endpoint_id, state)
    an endpoint and state, not a read of all of that index. PostgreSQL reads the states' ranges
    of (state, created_at) when they are few; here (two deliveries in five) it rightly scans."""
    _fill(store)
    with Session(store.engine) as session, sent_statements(store) as sent:
        endpoint_figures(session, since_hours(NOW, 24))
    (statement,) = [s for s in sent if "webhook_endpoints" in s[0]]
    if store.dialect == "sqlite":
        plan = explain(store, statement)
        assert "ix_webhook_deliveries_endpoint_id_state (endpoint_id=? AND state=?)" in plan, plan
        assert "SCAN webhook_deliveries" not in plan, plan

"""Benchmark: the console's webhook figures of the last 24 hours beside one read of every attempt.

Only the webhook tables are built: 4 endpoints, one message and N deliveries (1,000,000 by
default) with one attempt each, spread evenly over 400 days, so that the day's are a small part
(N/400). One in a hundred deliveries is dead; a tenth of the day's are pending. Timed (median of
5, warm): ``endpoint_figures`` (the day's attempts per endpoint, their successes and latencies,
the dead and pending deliveries now) and ``deliveries_since`` (the day's deliveries by state);
the baseline is one read of every attempt (count and sum of their durations), what a plan that
does not read the day's attempts through ix_webhook_attempts_started_at costs at least.

    python benchmarks/webhook_figures.py            # 1,000,000 attempts
    python benchmarks/webhook_figures.py --quick    # 20,000 attempts (run by the tests)
    python benchmarks/webhook_figures.py --database postgresql --attempts 200000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbbench import analyze, dialects, median_ms, scratch_url, series

from tracker import migrations
from tracker.settings import Settings
from tracker.store import Store, dashboard
from tracker.store.notices.tables import AttemptRow

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAYS = 400
ENDPOINTS = 4


def _ago(dialect: str, n: int) -> str:
    """Row ``g``'s time: NOW less g/n of DAYS days (g = 0 is the latest)."""
    seconds = f"(g * {DAYS * 86400} / {n})"
    if dialect == "postgresql":
        return f"(TIMESTAMPTZ '{NOW.isoformat()}' - {seconds} * INTERVAL '1 second')"
    start = NOW.strftime("%Y-%m-%d %H:%M:%S")
    # as SQLAlchemy writes a DateTime on SQLite, so that the text compares with its parameters
    return (
        f"(strftime('%Y-%m-%d %H:%M:%S', '{start}', '-' || {seconds} || ' seconds') || '.000000')"
    )


def load(store: Store, n: int) -> None:
    dialect = store.dialect
    numbers, at = series(dialect, n), _ago(dialect, n)
    per_day = n // DAYS
    state = (
        "CASE WHEN g % 100 = 0 THEN 'dead' "
        f"WHEN g < {per_day} AND g % 10 = 1 THEN 'pending' ELSE 'delivered' END"
    )
    status = "CASE WHEN g % 100 = 0 OR g % 10 = 1 THEN 500 ELSE 200 END"
    created = f"TIMESTAMPTZ '{NOW.isoformat()}'" if dialect == "postgresql" else "'2025-01-01'"
    with store.engine.begin() as conn:
        for e in range(1, ENDPOINTS + 1):
            conn.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, url, description, event_types, secret, "
                    f"enabled, created_at) VALUES ({e}, 'http://127.0.0.1:9/{e}', '', "
                    f"'notice.created', 'whsec_x', true, {created})"
                )
            )
        conn.execute(
            text(
                "INSERT INTO outbox_messages (id, webhook_id, event_type, data, created_at) "
                f"VALUES (1, 'msg_1', 'notice.created', '{{}}', {created})"
            )
        )
        conn.execute(
            text(
                "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, state, attempts, "
                f"next_attempt_at, created_at) SELECT g + 1, 1, 1 + g % {ENDPOINTS}, {state}, 1, "
                f"{at}, {at} FROM ({numbers}) AS series"
            )
        )
        conn.execute(
            text(
                "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, "
                f"status, worker) SELECT g + 1, 1, {at}, 10 + g % 90, {status}, '' "
                f"FROM ({numbers}) AS series ORDER BY g DESC"
            )
        )
    analyze(store)


def run(url: str, n: int) -> dict[str, float]:
    store = Store.open(Settings(database_url=url, site_dir=Path(tempfile.gettempdir()) / "no-site"))
    migrations.upgrade(store.engine)
    t0 = time.perf_counter()
    load(store, n)
    print(
        f"  {store.dialect}: loaded {n:,} attempts in {time.perf_counter() - t0:.0f} s", flush=True
    )
    since = dashboard.since_hours(NOW, 24)
    figures: dict[str, float] = {}
    with store.read() as session:
        day = dashboard.endpoint_figures(session, since)
        figures["day_attempts"] = sum(f.attempts for f in day.values())
        figures["endpoint_figures_ms"] = median_ms(
            lambda: dashboard.endpoint_figures(session, since)
        )
        figures["deliveries_since_ms"] = median_ms(
            lambda: dashboard.deliveries_since(session, since)
        )
        every = select(func.count(), func.sum(AttemptRow.duration_ms))
        figures["baseline_ms"] = median_ms(lambda: session.execute(every).one())
    figures["ratio"] = figures["endpoint_figures_ms"] / figures["baseline_ms"]
    store.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 attempts")
    parser.add_argument("--attempts", type=int)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    n = args.attempts or (20_000 if args.quick else 1_000_000)
    rows = []
    for dialect in dialects(args.database):
        with scratch_url(dialect, "webhooks") as url:
            rows.append((dialect, run(url, n)))
    print(
        f"\nwebhook figures of the last 24 hours over {n:,} attempts ({DAYS} days), ms, median "
        "of 5: the endpoints' figures and the day's deliveries by state, beside the baseline "
        "(one read of every attempt) and the ratio"
    )
    head = ("day's", "endpoints", "deliveries", "baseline", "ratio")
    print(f"{'database':<12}" + "".join(f"{h:>12}" for h in head))
    for name, f in rows:
        cells = (
            f"{f['day_attempts']:,.0f}",
            f"{f['endpoint_figures_ms']:.1f}",
            f"{f['deliveries_since_ms']:.1f}",
            f"{f['baseline_ms']:.1f}",
            f"{f['ratio']:.3f}",
        )
        print(f"{name:<12}" + "".join(f"{c:>12}" for c in cells))
    print(json.dumps({name: f for name, f in rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

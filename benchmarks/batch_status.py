"""Benchmark: batch status for 10,000 users in one request.

Builds a database (SQLite, or PostgreSQL from ``POLICY_TRACKER_TEST_POSTGRES`` in a schema
of its own) with 100,000 users, 5 policies × 10 versions and 300,000 events, serves the
tracker with uvicorn and times ``POST /v1/status/batch`` for 10,000 random users (median of
several runs, end to end over HTTP), beside the bare SQL lookup of the same users' consent
rows in the same run (the baseline: the driver alone, one statement), and the ratio.

Targets: ≤ 300 ms; on PostgreSQL ≤ 1.5 × the bare SQL lookup.

    python benchmarks/batch_status.py                          # full size, SQLite
    python benchmarks/batch_status.py --database postgresql    # full size, PostgreSQL
    python benchmarks/batch_status.py --quick                  # small, a few seconds
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import bindparam, create_engine, text
from tracker_bench import DATABASES, database, populate, serve, tracker_env

SQL = (
    "SELECT user_id, policy_id, last_kind, last_version_id, accepted_version_id, accepted_at "
    "FROM consents WHERE user_id "
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few runs")
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    args = parser.parse_args(argv)
    users = 12_000 if args.quick else 100_000
    batch = 10_000
    runs = 3 if args.quick else 9
    console = Console()
    with tempfile.TemporaryDirectory() as tmp_name, database(args.database, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        with console.status(f"populating {users:,} users…"):
            data = populate(url, users=users)
        rng = random.Random(3)
        samples = [[f"user-{u}" for u in rng.sample(range(users), batch)] for _ in range(runs)]
        api_ms: list[float] = []
        with serve("tracker.service.serve:app_from_env", tracker_env(url, tmp)) as base:
            client = httpx.Client(base_url=base, timeout=60)
            headers = {"Authorization": f"Bearer {data.key}"}
            client.post("/v1/status/batch", json={"user_ids": samples[0]}, headers=headers)
            for ids in samples:
                start = time.perf_counter()
                r = client.post("/v1/status/batch", json={"user_ids": ids}, headers=headers)
                api_ms.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200 and len(r.json()["users"]) == batch, r.text[:200]
            client.close()
        engine = create_engine(url)
        sql_ms: list[float] = []
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            for ids in samples:
                cursor = raw.cursor()
                start = time.perf_counter()
                if args.database == "sqlite":
                    cursor.execute(SQL + f"IN ({', '.join('?' * len(ids))})", ids)
                else:
                    cursor.execute(SQL + "= ANY(%s)", [ids])
                cursor.fetchall()
                sql_ms.append((time.perf_counter() - start) * 1000)
                cursor.close()
                raw.rollback()
        # The lookup as the benchmark first measured it: SQLAlchemy Core, an IN list.
        query = text(SQL + "IN :ids").bindparams(bindparam("ids", expanding=True))
        core_ms: list[float] = []
        with engine.connect() as conn:
            for ids in samples:
                start = time.perf_counter()
                conn.execute(query, {"ids": ids}).all()
                core_ms.append((time.perf_counter() - start) * 1000)
        engine.dispose()
    api, sql = statistics.median(api_ms), statistics.median(sql_ms)
    core = statistics.median(core_ms)
    table = Table(
        title=f"POST /v1/status/batch — {args.database}, {batch:,} of {data.users:,} users, "
        f"{data.events:,} events"
    )
    for col in ("", "median (ms)"):
        table.add_column(col, justify="right")
    table.add_row("tracker, over HTTP", f"{api:.0f}")
    table.add_row("bare SQL lookup of the same rows, the driver alone (baseline)", f"{sql:.0f}")
    table.add_row("ratio", f"{api / sql:.2f}")
    table.add_row("the same lookup through SQLAlchemy Core, an IN list", f"{core:.0f}")
    table.add_row("ratio to it", f"{api / core:.2f}")
    table.add_row("target", "≤ 300, ratio ≤ 1.5")
    console.print(table)
    print(
        json.dumps(
            {
                "batch_ms": api,
                "sql_ms": sql,
                "ratio": api / sql,
                "core_ms": core,
                "core_ratio": api / core,
                "database": args.database,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: batch status for 10,000 users in one request.

Builds a SQLite database with 100,000 users, 5 policies × 10 versions and 300,000 events,
serves the tracker with uvicorn and times ``POST /v1/status/batch`` for 10,000 random users
(median of several runs, end to end over HTTP), beside the bare SQL lookup of the same
users' consent rows in the same run (the baseline), and the ratio.

Target: ≤ 300 ms.

    python benchmarks/batch_status.py            # full size
    python benchmarks/batch_status.py --quick    # small, a few seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import bindparam, create_engine, text
from tracker_bench import populate, serve, tracker_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, few runs")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    args = parser.parse_args(argv)
    users = 12_000 if args.quick else 100_000
    batch = 10_000
    runs = 3 if args.quick else 9
    console = Console()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
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
        query = text(
            "SELECT user_id, policy_id, last_kind, last_version_id, accepted_version_id, "
            "accepted_at FROM consents WHERE user_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        sql_ms: list[float] = []
        with engine.connect() as conn:
            for ids in samples:
                start = time.perf_counter()
                conn.execute(query, {"ids": ids}).all()
                sql_ms.append((time.perf_counter() - start) * 1000)
        engine.dispose()
    api, sql = statistics.median(api_ms), statistics.median(sql_ms)
    table = Table(
        title=f"POST /v1/status/batch — {batch:,} of {data.users:,} users, {data.events:,} events"
    )
    for col in ("", "median (ms)"):
        table.add_column(col, justify="right")
    table.add_row("tracker, over HTTP", f"{api:.0f}")
    table.add_row("bare SQL lookup of the same rows (baseline)", f"{sql:.0f}")
    table.add_row("ratio", f"{api / sql:.1f}")
    table.add_row("target", "≤ 300")
    console.print(table)
    print(json.dumps({"batch_ms": api, "sql_ms": sql, "ratio": api / sql}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

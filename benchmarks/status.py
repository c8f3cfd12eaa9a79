"""Benchmark: the status lookup under load, against a bare Starlette endpoint.

Builds a database (SQLite, or PostgreSQL from ``POLICY_TRACKER_TEST_POSTGRES`` in a schema
of its own) with 100,000 users, 5 policies × 10 versions and 300,000 events, serves the
tracker with uvicorn (one worker, uvloop and httptools) and, in the same run, a bare
Starlette endpoint returning a fixed JSON body of the same size (the same server), loads
both with ``wrk`` (random users) and prints requests/s and p99 side by side. On PostgreSQL
it also serves the tracker with two workers (``serve --workers 2``) beside the one.

Targets: status throughput ≥ 0.6 × the bare endpoint's on SQLite, ≥ 0.30 × on PostgreSQL;
p99 ≤ 10 ms at the measured rate; no errors.

    python benchmarks/status.py                          # full size, SQLite
    python benchmarks/status.py --database postgresql    # full size, PostgreSQL
    python benchmarks/status.py --plain                  # both on asyncio and h11 instead
    python benchmarks/status.py --quick                  # small, a few seconds (the tests)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from tracker_bench import DATABASES, WrkResult, database, populate, serve, tracker_env, wrk

LUA = """
local key = "{key}"
local users = {users}
math.randomseed(os.time())
request = function()
  local path = "/v1/users/user-" .. math.random(0, users - 1) .. "/status"
  return wrk.format("GET", path, {{["Authorization"] = "Bearer " .. key}})
end
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--plain", action="store_true", help="asyncio and h11 for both servers")
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    args = parser.parse_args(argv)
    users = args.users or (2_000 if args.quick else 100_000)
    seconds = args.seconds or (2 if args.quick else 10)
    console = Console()
    pg = args.database == "postgresql"
    two: WrkResult | None = None
    with tempfile.TemporaryDirectory() as tmp_name, database(args.database, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        with console.status(f"populating {users:,} users…"):
            data = populate(url, users=users)
        script = tmp / "status.lua"
        script.write_text(LUA.format(key=data.key, users=users))
        env = tracker_env(url, tmp)
        with serve("tracker.service.serve:app_from_env", env, plain=args.plain) as base:
            sample = httpx.get(
                f"{base}/v1/users/user-1/status", headers={"Authorization": f"Bearer {data.key}"}
            )
            assert sample.status_code == 200, sample.text
            wrk(base, script, seconds=1, connections=args.connections)  # warm up
            tracked = wrk(base, script, seconds=seconds, connections=args.connections)
        if pg:
            app = "tracker.service.serve:app_from_env"
            with serve(app, env, plain=args.plain, workers=2) as base:
                wrk(base, script, seconds=1, connections=args.connections)
                two = wrk(base, script, seconds=seconds, connections=args.connections)
        body = tmp / "body.json"
        body.write_bytes(sample.content)
        bare_env = {"BENCH_BARE_BODY": str(body)}
        with serve("tracker_bench:bare_app", bare_env, plain=args.plain) as base:
            wrk(base, script, seconds=1, connections=args.connections)
            bare = wrk(base, script, seconds=seconds, connections=args.connections)
    ratio = tracked.rps / bare.rps
    target = 0.30 if pg else 0.60
    table = Table(
        title=f"GET /v1/users/{{id}}/status — {args.database}, {data.users:,} users, "
        f"{data.policies} policies × {data.versions} versions, {data.events:,} events, "
        f"{args.connections} connections, "
        f"{len(sample.content)} B body, uvicorn on "
        + ("asyncio and h11" if args.plain else "uvloop and httptools")
    )
    for col in ("", "requests/s", "p99 (ms)", "errors"):
        table.add_column(col, justify="right")
    table.add_row(
        "tracker status", f"{tracked.rps:,.0f}", f"{tracked.p99_ms:.1f}", str(tracked.errors)
    )
    table.add_row(
        "bare Starlette (baseline)", f"{bare.rps:,.0f}", f"{bare.p99_ms:.1f}", str(bare.errors)
    )
    table.add_row(f"ratio (target ≥ {target:.2f})", f"{ratio:.2f}", "target ≤ 10", "")
    if two is not None:
        table.add_row(
            "tracker status, serve --workers 2",
            f"{two.rps:,.0f}",
            f"{two.p99_ms:.1f}",
            str(two.errors),
        )
        table.add_row("2 workers / 1 worker", f"{two.rps / tracked.rps:.2f}", "", "")
    console.print(table)
    print(
        json.dumps(
            {
                "status_rps": tracked.rps,
                "bare_rps": bare.rps,
                "ratio": ratio,
                "status_p99_ms": tracked.p99_ms,
                "bare_p99_ms": bare.p99_ms,
                "server": "asyncio+h11" if args.plain else "uvloop+httptools",
                "database": args.database,
                "errors": tracked.errors,
                **({"two_workers_rps": two.rps, "two_workers_errors": two.errors} if two else {}),
            }
        )
    )
    errors = tracked.errors + (two.errors if two else 0)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

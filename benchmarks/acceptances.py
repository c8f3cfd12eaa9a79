"""Benchmark: recording acceptances on SQLite with 8 concurrent clients.

Serves the tracker with uvicorn (one worker) on a SQLite database (WAL, synchronous=FULL:
every 2xx is durable), posts acceptances of distinct users with ``wrk`` over 8 connections
and prints acceptances/s and p99 beside a bare Starlette endpoint that reads the same body
and answers a fixed JSON body of the same size (the baseline), and the ratio.

Target: ≥ 1,000 acceptances/s, none lost (the events table is counted afterwards).

    python benchmarks/acceptances.py            # full size
    python benchmarks/acceptances.py --quick    # a few seconds (run by the tests)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from tracker_bench import populate, serve, tracker_env, wrk

LUA = """
local key = "{key}"
local counter = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{{"user_id":"bench-%d-%d","policy":"policy-%d","version":10,"method":"clickwrap",' ..
    '"ip":"203.0.113.7","user_agent":"wrk","locale":"en"}}',
    thread_id, counter, math.random(0, 4))
  return wrk.format("POST", "/v1/acceptances",
    {{["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}}, body)
end
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    seconds = args.seconds or (2 if args.quick else 10)
    users = 1_000 if args.quick else 100_000
    console = Console()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        with console.status(f"populating {users:,} users…"):
            data = populate(url, users=users)
        script = tmp / "accept.lua"
        script.write_text(LUA.format(key=data.key))
        with serve("tracker.service.serve:app_from_env", tracker_env(url, tmp)) as base:
            sample = httpx.post(
                f"{base}/v1/acceptances",
                json={"user_id": "sample", "policy": "policy-0", "version": 10},
                headers={"Authorization": f"Bearer {data.key}"},
            )
            assert sample.status_code == 201, sample.text
            tracked = wrk(base, script, seconds=seconds, connections=args.clients, threads=2)
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM events WHERE user_id LIKE 'bench-%'"))
            stored_count = int(stored.scalar() or 0)
        engine.dispose()
        body = tmp / "body.json"
        body.write_bytes(sample.content)
        env = {"BENCH_BARE_BODY": str(body), "BENCH_BARE_STATUS": "201"}
        with serve("tracker_bench:bare_app", env) as base:
            bare = wrk(base, script, seconds=seconds, connections=args.clients, threads=2)
    ratio = tracked.rps / bare.rps
    table = Table(
        title=f"POST /v1/acceptances — SQLite, {args.clients} clients, {seconds} s, "
        f"{len(sample.content)} B answer"
    )
    for col in ("", "acceptances/s", "p99 (ms)", "errors"):
        table.add_column(col, justify="right")
    table.add_row("tracker", f"{tracked.rps:,.0f}", f"{tracked.p99_ms:.1f}", str(tracked.errors))
    table.add_row(
        "bare Starlette (baseline)", f"{bare.rps:,.0f}", f"{bare.p99_ms:.1f}", str(bare.errors)
    )
    table.add_row("ratio", f"{ratio:.2f}", "", "")
    table.add_row("target", "≥ 1,000", "", "0")
    console.print(table)
    print(f"stored events: {stored_count:,} (wrk completed about {tracked.rps * seconds:,.0f})")
    print(
        json.dumps(
            {
                "acceptances_per_s": tracked.rps,
                "bare_rps": bare.rps,
                "ratio": ratio,
                "p99_ms": tracked.p99_ms,
                "stored": stored_count,
            }
        )
    )
    return 0 if tracked.errors == 0 and stored_count > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: recording acceptances with 8 and 32 concurrent clients, the audit chain on
and off.

Serves the tracker with uvicorn (one worker) on SQLite (WAL, synchronous=FULL: every 2xx is
durable) or PostgreSQL (``POLICY_TRACKER_TEST_POSTGRES``, a schema of its own), posts
acceptances of distinct users with ``wrk`` and prints acceptances/s and p99 for each number
of clients with the chain on, beside the same writes with the chain off (each measured
twice, off, on, on, off, each in a fresh database; once each with ``--quick``) and a bare
Starlette endpoint that reads the same body and answers a fixed JSON body of the same size,
and the ratios.

Targets: ≥ 1,000 acceptances/s with 8 clients, chain on ≥ 0.8 × chain off, no errors, none
lost (the events table is counted afterwards: at least every 2xx wrk saw).

    python benchmarks/acceptances.py                          # full size, SQLite
    python benchmarks/acceptances.py --database postgresql    # full size, PostgreSQL
    python benchmarks/acceptances.py --database postgresql --workers 2   # serve --workers 2
    python benchmarks/acceptances.py --quick                  # a few seconds (the tests)
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
from tracker_bench import DATABASES, WrkResult, database, populate, serve, tracker_env, wrk

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
    '{{"user_id":"bench-{run}-%d-%d","policy":"policy-%d","version":10,"method":"clickwrap",' ..
    '"ip":"203.0.113.7","user_agent":"wrk","locale":"en"}}',
    thread_id, counter, math.random(0, 4))
  return wrk.format("POST", "/v1/acceptances",
    {{["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}}, body)
end
"""


def measure(
    kind: str,
    users: int,
    script_text: str,
    seconds: int,
    clients: int,
    chain: bool,
    workers: int = 1,
) -> tuple[WrkResult, int, bytes]:
    """One run in a fresh database: wrk's figures, the events stored, a sample answer."""
    with tempfile.TemporaryDirectory() as tmp_name, database(kind, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        data = populate(url, users=users)
        # The warm-up's users are not the measured run's: a repeat of a user's last acceptance
        # is answered by the router, and no app sends a run of them.
        warm, script = tmp / "warm.lua", tmp / "accept.lua"
        warm.write_text(script_text.format(key=data.key, run="warm"))
        script.write_text(script_text.format(key=data.key, run="run"))
        app = "tracker.service.serve:app_from_env" if chain else "tracker_bench:unchained_app"
        with serve(app, tracker_env(url, tmp), workers=workers) as base:
            sample = httpx.post(
                f"{base}/v1/acceptances",
                json={"user_id": "sample", "policy": "policy-0", "version": 10},
                headers={"Authorization": f"Bearer {data.key}"},
            )
            assert sample.status_code == 201, sample.text
            wrk(base, warm, seconds=1, connections=clients, threads=2)
            result = wrk(base, script, seconds=seconds, connections=clients, threads=2)
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT count(*) FROM events WHERE user_id LIKE 'bench-run-%'")
            )
            stored_count = int(stored.scalar() or 0)
        engine.dispose()
    return result, stored_count, sample.content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (serve --workers)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (2 if args.quick else 10)
    users = 1_000 if args.quick else 20_000
    console = Console()
    table = Table(
        title=f"POST /v1/acceptances — {args.database}, {seconds} s a run, "
        f"{args.workers} uvicorn worker{'s' if args.workers > 1 else ''}"
    )
    for col in ("clients", "", "acceptances/s", "p99 (ms)", "errors", "stored ≥ 2xx"):
        table.add_column(col, justify="right")
    figures: dict[str, float] = {}
    ok = True
    for clients in args.clients:
        runs: dict[bool, list[WrkResult]] = {True: [], False: []}
        for chain in (False, True) if args.quick else (False, True, True, False):
            with console.status(f"{clients} clients, chain {'on' if chain else 'off'}…"):
                result, stored, sample = measure(
                    args.database, users, LUA, seconds, clients, chain, args.workers
                )
            runs[chain].append(result)
            # wrk counts requests, not 2xx: at least rps × seconds minus errors were stored.
            kept = stored >= int(result.rps * seconds) - result.errors - clients
            ok = ok and kept and result.errors == 0
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            body = tmp / "body.json"
            body.write_bytes(sample)
            script = tmp / "accept.lua"
            script.write_text(LUA.format(key="bare", run="run"))
            env = {"BENCH_BARE_BODY": str(body), "BENCH_BARE_STATUS": "201"}
            with serve("tracker_bench:bare_app", env) as base:
                bare = wrk(base, script, seconds=seconds, connections=clients, threads=2)
        on = sum(r.rps for r in runs[True]) / len(runs[True])
        off = sum(r.rps for r in runs[False]) / len(runs[False])
        p99_on = max(r.p99_ms for r in runs[True])
        p99_off = max(r.p99_ms for r in runs[False])
        errors_on = sum(r.errors for r in runs[True])
        errors_off = sum(r.errors for r in runs[False])
        table.add_row(
            str(clients), "tracker, chain on", f"{on:,.0f}", f"{p99_on:.1f}", str(errors_on), ""
        )
        table.add_row(
            "",
            "tracker, chain off (baseline)",
            f"{off:,.0f}",
            f"{p99_off:.1f}",
            str(errors_off),
            "",
        )
        table.add_row(
            "",
            "bare Starlette (baseline)",
            f"{bare.rps:,.0f}",
            f"{bare.p99_ms:.1f}",
            str(bare.errors),
            "",
        )
        table.add_row("", "ratio on / off (target ≥ 0.80)", f"{on / off:.2f}", "", "", "")
        table.add_row("", "ratio on / bare", f"{on / bare.rps:.2f}", "", "", "")
        figures.update(
            {
                f"acceptances_per_s_{clients}": on,
                f"chain_off_per_s_{clients}": off,
                f"bare_rps_{clients}": bare.rps,
                f"ratio_{clients}": on / off,
                f"p99_ms_{clients}": p99_on,
            }
        )
    console.print(table)
    first = args.clients[0]
    print(
        "target: ≥ 1,000 acceptances/s with 8 clients; every 2xx stored: " + ("yes" if ok else "NO")
    )
    print(
        json.dumps(
            {
                "database": args.database,
                "workers": args.workers,
                "acceptances_per_s": figures[f"acceptances_per_s_{first}"],
                "bare_rps": figures[f"bare_rps_{first}"],
                "ratio": figures[f"ratio_{first}"],
                "stored": 1 if ok else 0,
                **figures,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

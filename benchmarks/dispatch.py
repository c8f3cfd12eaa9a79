"""Benchmark: webhook deliveries per second with 1 and with 4 dispatchers on PostgreSQL.

Queues N ``acceptance.recorded`` deliveries to one local receiver (a threaded HTTP server on
127.0.0.1 that answers 200 after a fixed 10 ms, standing in for an app's webhook handler),
then runs ``policy-tracker dispatch`` (default settings: ``dispatch_concurrency`` requests in
flight each) as 1 and then 4 real processes. The deliveries are made due only once every
dispatcher has connected, and the time runs from the first request to the last, so process
start-up is not counted. The same deliveries are reset and sent again for the second run.

Baseline: the same number of bare signed POSTs to the same receiver from one process with
one keep-alive httpx client and ``dispatch_concurrency`` threads, no database: what one
dispatcher would reach if claiming and recording cost nothing.

Targets: ≥ 300 deliveries/s with 4 dispatchers, and 4 dispatchers ≥ 2.5 × one.

    python benchmarks/dispatch.py            # 6,000 deliveries
    python benchmarks/dispatch.py --quick    # 600 deliveries (run by the tests)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker import migrations  # noqa: E402
from tracker.notices.signing import headers  # noqa: E402
from tracker.notices.urls import AllowList  # noqa: E402
from tracker.notices.webhooks import add_endpoint  # noqa: E402
from tracker.settings import Settings  # noqa: E402
from tracker.store import Store  # noqa: E402
from tracker.store.notices import enqueue  # noqa: E402

PG_URL = os.environ.get(
    "POLICY_TRACKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LATENCY = 0.010
OPTIONS = ["--batch", "20", "--poll", "0.05"]


class Receiver:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                time.sleep(LATENCY)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.lock:
                    receiver.times.append(time.monotonic())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _rate(receiver: Receiver, total: int) -> float:
    times = sorted(receiver.times)
    # From the first request to the last.
    first_start = times[0] - LATENCY
    return total / (times[-1] - first_start)


def _bare(receiver: Receiver, total: int, concurrency: int, secret: str) -> float:
    """Signed POSTs straight from memory: the ceiling for one dispatcher."""
    receiver.times.clear()
    body = b'{"data":{"n":0},"timestamp":"2025-01-01T00:00:00Z","type":"acceptance.recorded"}'
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=max(20, concurrency))
    with httpx.Client(limits=limits) as client, ThreadPoolExecutor(concurrency) as pool:

        def post(i: int) -> None:
            signed = headers((secret,), f"msg_{i}", int(time.time()), body)
            client.post(receiver.url, content=body, headers=signed).raise_for_status()

        list(pool.map(post, range(total)))
    return _rate(receiver, total)


def _wait_connected(engine: Any, name: str, workers: int) -> None:
    """Until every dispatcher has connected (that is, has started and looked once)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            connected = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            ).scalar_one()
        if connected >= workers:
            return
        time.sleep(0.05)
    raise SystemExit(f"only {connected} of {workers} dispatchers connected within 2 minutes")


def _run(url: str, workers: int, total: int, receiver: Receiver, engine: Any) -> float:
    receiver.times.clear()
    env = {**os.environ, "POLICY_TRACKER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
    env["PYTHONPATH"] = str(ROOT)
    name = f"dispatch_bench_{uuid.uuid4().hex[:8]}"
    worker_url = f"{url}&application_name={name}"
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "dispatch", "--database-url", worker_url, *OPTIONS],
            env=env,
        )
        for _ in range(workers)
    ]
    try:
        _wait_connected(engine, name, workers)
        with engine.begin() as conn:
            conn.execute(text("UPDATE webhook_deliveries SET next_attempt_at = now()"))
        while True:
            with engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")
                ).scalar_one()
            if left == 0:
                break
            if time.monotonic() - started > 600:
                raise SystemExit(f"{left} deliveries still pending after 10 minutes")
            time.sleep(0.05)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
    return _rate(receiver, total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 deliveries")
    parser.add_argument("--deliveries", type=int)
    args = parser.parse_args(argv)
    total = args.deliveries or (600 if args.quick else 6000)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    receiver = Receiver()
    settings = Settings.from_env()
    store = Store.open(Settings(database_url=url))
    try:
        migrations.upgrade(store.engine)
        now = datetime.now(UTC)
        allowed = AllowList("127.0.0.1")
        secret, _ = store.write(
            lambda s: add_endpoint(s, receiver.url, ("acceptance.recorded",), allowed, now)
        )

        def fill(session: Session) -> None:
            for i in range(total):
                enqueue(session, "acceptance.recorded", {"n": i}, now)

        store.write(fill)
        bare = _bare(receiver, total, settings.dispatch_concurrency, secret)
        rates = {}
        for workers in (1, 4):
            with store.engine.begin() as conn:
                # Not due until every dispatcher is up (see _run).
                conn.execute(
                    text(
                        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, "
                        "next_attempt_at = now() + interval '1 day', lease_token = NULL"
                    )
                )
            rates[workers] = _run(url, workers, total, receiver, store.engine)
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        receiver.server.shutdown()
    one, four = rates[1], rates[4]
    print(
        f"\n{total:,} webhook deliveries to a local receiver answering in "
        f"{LATENCY * 1000:.0f} ms; dispatch_concurrency {settings.dispatch_concurrency}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'':<34}{'deliveries/s':>14}{'vs 1 dispatcher':>18}")
    print(f"{'1 dispatcher':<34}{one:>14.0f}{1:>17.2f}×")
    print(f"{'4 dispatchers':<34}{four:>14.0f}{four / one:>17.2f}×")
    print(f"{'baseline: bare POSTs, no database':<34}{bare:>14.0f}{bare / one:>17.2f}×")
    print(f"targets: 4 dispatchers ≥ 300/s ({four:.0f}); 4 vs 1 ≥ 2.5× ({four / one:.2f}×)")
    print("targets met" if four >= 300 and four / one >= 2.5 else "TARGETS MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Dispatchers killed with SIGKILL mid-batch, again and again, on PostgreSQL: every message
is delivered at least once, duplicates carry the same webhook-id (and body), and no
message is ever in flight twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.notices.receiver import Receiver
from tracker import migrations
from tracker.notices.urls import AllowList
from tracker.notices.webhooks import add_endpoint
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.notices import DeliveryRow, MessageRow, enqueue

MESSAGES = 2000
WORKERS = 4
KILLS = 20
ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ["--batch", "25", "--lease", "3", "--poll", "0.05"]


def _spawn(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POLICY_TRACKER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tracker.notices", "--database-url", url, *OPTIONS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_kill_9_dispatchers_mid_batch(pg_url: str, receiver: Receiver) -> None:
    store = Store.open(Settings(database_url=pg_url))
    migrations.upgrade(store.engine)
    now = datetime.now(UTC)
    allowed = AllowList("127.0.0.1")
    secret, _ = store.write(
        lambda s: add_endpoint(s, receiver.url(), ("acceptance.recorded",), allowed, now)
    )
    receiver.secrets.append(secret)
    receiver.delay = 0.01

    def fill(session: Session) -> None:
        for i in range(MESSAGES):
            enqueue(session, "acceptance.recorded", {"n": i}, now)

    store.write(fill)
    with store.read() as session:
        expected = set(session.scalars(select(MessageRow.webhook_id)))
    assert len(expected) == MESSAGES

    workers = [_spawn(pg_url) for _ in range(WORKERS)]
    kills = 0
    rng = random.Random(7)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            with store.read() as session:
                left = session.scalar(select(func.count()).where(DeliveryRow.state != "delivered"))
            if left == 0 and kills >= KILLS:
                break
            if kills < KILLS and len(receiver.received) > 0:
                victim = rng.randrange(WORKERS)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                kills += 1
                workers[victim] = _spawn(pg_url)
                time.sleep(rng.uniform(0.15, 0.4))
            else:
                time.sleep(0.1)
    finally:
        for w in workers:
            w.send_signal(signal.SIGKILL)
            w.wait()
        store.dispose()
    assert kills >= KILLS
    assert left == 0, f"{left} deliveries not delivered"
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for r in receiver.received:
        assert r.verified, r
        bodies[r.webhook_id].add(r.body)
    assert set(bodies) == expected  # every message arrived at least once
    assert all(len(b) == 1 for b in bodies.values())  # a retry is the same message
    assert receiver.max_in_flight == 1  # never two at once
    duplicates = len(receiver.received) - len(expected)
    print(f"{kills} kills, {len(receiver.received)} requests, {duplicates} duplicates")

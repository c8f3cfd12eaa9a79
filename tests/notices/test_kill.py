"""Dispatchers killed with SIGKILL mid-batch, again and again, on PostgreSQL: every message
is delivered at least once, duplicates carry the same webhook-id (and body), and no
message is ever in flight twice.

A kill counts as mid-batch when the receiver was answering one of the victim's requests at
that moment (the victim's connections are read from ``/proc``) and messages were still
undelivered; the test kills busy dispatchers until 20 such kills have landed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.notices.receiver import Received, Receiver
from tracker import migrations
from tracker.notices.urls import AllowList
from tracker.notices.webhooks import add_endpoint
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.notices import AttemptRow, DeliveryRow, MessageRow, enqueue

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
        [sys.executable, "-m", "tracker", "dispatch", "--database-url", url, *OPTIONS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _ports(pid: int, server_port: int) -> set[int]:
    """The local ports of ``pid``'s connections to 127.0.0.1:``server_port`` (Linux)."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return set()
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    remote = f"0100007F:{server_port:04X}"
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[2] == remote and fields[9] in inodes:
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass(frozen=True)
class Kill:
    #: The victim's requests the receiver had read and not answered yet.
    answering: int
    #: Deliveries not delivered once the victim was dead.
    left: int
    at: float

    @property
    def mid_batch(self) -> bool:
        return self.answering > 0 and self.left > 0


def _undelivered(store: Store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).where(DeliveryRow.state != "delivered")) or 0


def test_kill_9_dispatchers_mid_batch(pg_url: str, receiver: Receiver) -> None:
    store = Store.open(Settings(database_url=pg_url))
    try:
        _kill_again_and_again(store, pg_url, receiver)
    finally:
        store.dispose()


def _kill_again_and_again(store: Store, pg_url: str, receiver: Receiver) -> None:
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
        webhook_ids = {
            d["n"]: w for d, w in session.execute(select(MessageRow.data, MessageRow.webhook_id))
        }
    assert sorted(webhook_ids) == list(range(MESSAGES))

    server_port = int(receiver.server.server_address[1])
    workers = [_spawn(pg_url) for _ in range(WORKERS)]
    kills: list[Kill] = []
    rng = random.Random(7)
    start = time.monotonic()
    deadline = start + 240
    left = MESSAGES
    try:
        while time.monotonic() < deadline:
            crashed = [w.returncode for w in workers if w.poll() is not None]
            assert not crashed, f"a dispatcher exited by itself: {crashed}"
            left = _undelivered(store)
            if left == 0:
                break
            if sum(k.mid_batch for k in kills) >= KILLS:
                time.sleep(0.1)  # enough: let the survivors take over the dead leases
                continue
            senders = {i: _ports(w.pid, server_port) for i, w in enumerate(workers)}
            busy = [i for i, ports in senders.items() if receiver.answering(ports)]
            if not busy:
                time.sleep(0.01)
                continue
            victim = rng.choice(busy)
            answering = len(receiver.answering(senders[victim]))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            kills.append(Kill(answering, _undelivered(store), time.monotonic() - start))
            workers[victim] = _spawn(pg_url)
            time.sleep(rng.uniform(0.15, 0.4))
    finally:
        for w in workers:
            w.send_signal(signal.SIGKILL)
            w.wait()

    mid_batch = [k for k in kills if k.mid_batch]
    assert len(mid_batch) >= KILLS, kills
    assert left == 0, f"{left} deliveries not delivered"
    with store.read() as session:
        states = Counter(session.scalars(select(DeliveryRow.state)))
        claims = int(session.scalar(select(func.sum(DeliveryRow.attempts))) or 0)
        recorded = int(session.scalar(select(func.count()).select_from(AttemptRow)) or 0)
    assert states == {"delivered": MESSAGES}
    # Each mid-batch kill left at least one claim its worker never recorded; another worker
    # took it again once the lease ran out.
    assert claims - recorded >= len(mid_batch), (claims, recorded)

    by_message: dict[int, list[Received]] = defaultdict(list)
    for r in receiver.received:
        assert r.verified, r
        by_message[r.json()["data"]["n"]].append(r)
    assert sorted(by_message) == list(range(MESSAGES))  # every message arrived at least once
    for n, copies in by_message.items():
        # Every copy is the message itself: one webhook-id (the stored one), one body.
        assert {r.webhook_id for r in copies} == {webhook_ids[n]}, n
        assert len({r.body for r in copies}) == 1, n
        copies.sort(key=lambda r: r.started)
        for earlier, later in pairwise(copies):
            assert later.started >= earlier.ended, (n, earlier, later)  # never two at once
    assert receiver.max_in_flight == 1
    # A victim never heard the answer to the request it was sending, so it was sent again.
    duplicates = len(receiver.received) - MESSAGES
    assert duplicates >= len(mid_batch), (duplicates, kills)

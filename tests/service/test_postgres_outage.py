"""PostgreSQL stopped and started under load: a cluster of the test's own (``initdb`` and
``pg_ctl`` on a temporary data directory and another port; never the shared one), a real
uvicorn in front of it, clients reading status and recording acceptances throughout.

While PostgreSQL is down every answer is a 503 problem with ``Retry-After`` (no 500, no
request hanging past the configured timeouts), ``/healthz`` says so, every acceptance
answered 201 is stored, and answers come back by themselves soon after PostgreSQL does.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.service.helpers import payload, policy, version
from tracker import migrations
from tracker.service.api.admin import parse_policies
from tracker.settings import Settings
from tracker.store import Store, publish
from tracker.store.keys import create_key

POOL_TIMEOUT = 2.0
CONNECT_TIMEOUT = 2
#: Longest any request may take: a connection wait, a connection attempt, and slack for a
#: loaded machine. A client giving up sooner counts as a hang.
CLIENT_TIMEOUT = POOL_TIMEOUT + CONNECT_TIMEOUT + 6.0


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is needed (apt-get install postgresql)"
    return found[-1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the ``postgres`` user when
    the tests run as root (``initdb`` refuses root)."""

    def __init__(self, folder: Path):
        # Not under pytest's tmp_path: its folders are closed to other users.
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        self.port = _port()
        self.as_user: list[str] = []
        folder.chmod(0o755)
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(folder, "postgres", "postgres")
        self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run(
            _bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster(Path(tempfile.mkdtemp(prefix="tracker-pg-")))
    try:
        made.start()
        yield made
    finally:
        subprocess.run(
            [*made.as_user, _bin("pg_ctl"), "-D", str(made.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(made.folder, ignore_errors=True)


@dataclass
class Seen:
    kind: str  # "status", "accept" or "health"
    started: float
    status: int  # 0: the client gave up (a hang)
    retry_after: str | None = None
    content_type: str = ""
    user: str = ""


def _serve(url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "POLICY_TRACKER_REPOSITORY": str(tmp),
        "POLICY_TRACKER_SITE_DIR": str(tmp / "no-site"),
        "POLICY_TRACKER_POOL_SIZE": "4",
        "POLICY_TRACKER_POOL_TIMEOUT": str(POOL_TIMEOUT),
        "POLICY_TRACKER_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    }
    args = [sys.executable, "-m", "uvicorn", "tracker.service.serve:app_from_env", "--factory"]
    args += ["--port", str(port), "--no-access-log", "--log-level", "critical"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    proc.wait(10)
    raise AssertionError("the tracker did not start")


@pytest.mark.slow
def test_postgresql_stopped_and_started_under_load(cluster: Cluster, tmp_path: Path) -> None:
    store = Store.open(Settings(database_url=cluster.url))
    migrations.upgrade(store.engine)
    parsed = parse_policies(payload(policy("privacy", version(1, "major"))))
    store.write(lambda s: publish(s, parsed))
    key, _ = store.write(lambda s: create_key(s, "load", frozenset({"read", "write"})))
    store.dispose()
    proc, base = _serve(cluster.url, tmp_path)
    seen: list[Seen] = []
    lock = threading.Lock()
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {key}"}

    def client(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=CLIENT_TIMEOUT) as http:
            i = 0
            while not stop.is_set():
                i += 1
                user = f"c{n}-{i}"
                started = time.monotonic()
                try:
                    if n % 2:
                        r = http.get(f"/v1/users/{user}/status")
                        kind = "status"
                    else:
                        body = {"user_id": user, "policy": "privacy", "version": 1}
                        r = http.post("/v1/acceptances", json=body)
                        kind = "accept"
                except httpx.TimeoutException:
                    with lock:
                        seen.append(Seen("hang", started, 0, user=user))
                    continue
                except httpx.TransportError:  # the server never drops a connection here
                    with lock:
                        seen.append(Seen("dropped", started, 0, user=user))
                    continue
                with lock:
                    seen.append(
                        Seen(
                            kind,
                            started,
                            r.status_code,
                            r.headers.get("retry-after"),
                            r.headers.get("content-type", ""),
                            user,
                        )
                    )
                if r.status_code == 503:
                    time.sleep(0.05)

    def health() -> None:
        with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    r = http.get("/healthz")
                except httpx.HTTPError:
                    with lock:
                        seen.append(Seen("hang", started, 0))
                    continue
                with lock:
                    seen.append(
                        Seen("health", started, r.status_code, r.headers.get("retry-after"))
                    )
                time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    threads.append(threading.Thread(target=health))
    try:
        for t in threads:
            t.start()
        for _ in range(300):  # until each kind of request has been answered (a loaded machine)
            with lock:
                answered = {(s.kind, s.status) for s in seen}
            if {("status", 200), ("accept", 201), ("health", 200)} <= answered:
                break
            time.sleep(0.1)
        stopping = time.monotonic()
        cluster.stop()
        stopped = time.monotonic()
        time.sleep(3)
        cluster.start()
        back = time.monotonic()
        time.sleep(8)
    finally:
        stop.set()
        for t in threads:
            t.join(CLIENT_TIMEOUT + 5)
        proc.terminate()
        proc.wait(10)

    statuses = {(s.kind, s.status) for s in seen}
    assert not [s for s in seen if s.kind in ("hang", "dropped")], "a request hung or dropped"
    assert not [s for s in seen if s.status >= 500 and s.status != 503], statuses
    unavailable = [s for s in seen if s.status == 503]
    assert {s.kind for s in unavailable} >= {"status", "accept", "health"}, statuses
    for s in unavailable:
        assert s.retry_after is not None and s.retry_after.isdigit(), s
        assert s.kind == "health" or s.content_type == "application/problem+json", s
    # Answered before the stop and again after the start; while down, only 503s.
    down = [s for s in seen if stopped + 0.5 < s.started < back - 0.5]
    assert down and {s.status for s in down} == {503}, {(s.kind, s.status) for s in down}
    for kind, ok in (("status", 200), ("accept", 201), ("health", 200)):
        before = [s for s in seen if s.kind == kind and s.started < stopping and s.status == ok]
        after = [
            s for s in seen if s.kind == kind and back < s.started < back + 5 and s.status == ok
        ]
        timeline = [(round(s.started - stopped, 2), s.status) for s in seen if s.kind == kind]
        assert before and after, (kind, round(back - stopped, 2), timeline)
        late = [s for s in seen if s.kind == kind and s.started > back + 5]
        assert late and all(s.status == ok for s in late), (kind, {s.status for s in late})
    # Nothing acknowledged is lost.
    acknowledged = {s.user for s in seen if s.kind == "accept" and s.status == 201}
    engine = create_engine(cluster.url, poolclass=NullPool)
    with engine.connect() as conn:
        stored = {
            row[0]
            for row in conn.execute(text("SELECT user_id FROM events WHERE kind = 'accepted'"))
        }
    engine.dispose()
    assert acknowledged and acknowledged <= stored, sorted(acknowledged - stored)[:5]

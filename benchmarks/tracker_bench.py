"""Shared pieces of the tracker benchmarks: a populated database, servers, wrk.

Not a benchmark itself: ``status.py``, ``batch_status.py`` and ``acceptances.py`` use it.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tracker import migrations
from tracker.policy import normalise_text, sha256_text
from tracker.service.api.admin import parse_policies
from tracker.settings import Settings
from tracker.store import Store, publish
from tracker.store.keys import create_key

HERE = Path(__file__).resolve().parent
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SIGNIFICANCE = [
    "major",
    "minor",
    "patch",
    "minor",
    "major",
    "patch",
    "minor",
    "patch",
    "major",
    "minor",
]


@dataclass
class Dataset:
    url: str
    key: str
    users: int
    policies: int
    versions: int
    events: int


def _payload(policies: int, versions: int) -> dict[str, Any]:
    out = []
    for p in range(policies):
        vs = []
        for n in range(1, versions + 1):
            published = T0 + timedelta(days=10 * n)
            text = normalise_text(f"Policy {p}", f"Version {n} of policy {p}.\n" * 20)
            vs.append(
                {
                    "number": n,
                    "commit": f"{p:02x}{n:038x}",
                    "published": published.isoformat(),
                    "effective": published.date().isoformat(),
                    "significance": SIGNIFICANCE[(n - 1) % len(SIGNIFICANCE)] if n > 1 else "major",
                    "summary": f"v{n}",
                    "sha256": sha256_text(text),
                    "text": text,
                }
            )
        out.append({"slug": f"policy-{p}", "title": f"Policy {p}", "versions": vs})
    return {"policies": out}


def populate(
    url: str, *, users: int, policies: int = 5, versions: int = 10, events_per_user: int = 3
) -> Dataset:
    """A migrated database with published versions, users' events and their consents."""
    store = Store.open(Settings(database_url=url))
    migrations.downgrade(store.engine, "base")
    migrations.upgrade(store.engine)
    parsed = parse_policies(_payload(policies, versions))
    store.write(lambda s: publish(s, parsed))
    key, _ = store.write(lambda s: create_key(s, "bench", frozenset({"read", "write", "admin"})))
    rng = random.Random(7)
    events: list[tuple[Any, ...]] = []
    consents: list[tuple[Any, ...]] = []
    now = datetime.now(UTC).replace(tzinfo=None)
    event_id = 0
    for u in range(users):
        user = f"user-{u}"
        for p in rng.sample(range(policies), min(events_per_user, policies)):
            event_id += 1
            number = rng.randint(1, versions)
            version_id = p * versions + number
            kind = "accepted" if rng.random() < 0.9 else "declined"
            events.append((event_id, user, p + 1, version_id, kind, "api", 1, now))
            consents.append(
                (
                    user,
                    p + 1,
                    event_id,
                    kind,
                    version_id,
                    version_id if kind == "accepted" else None,
                    now if kind == "accepted" else None,
                )
            )
    event_columns = "id, user_id, policy_id, version_id, kind, method, api_key_id, created_at"
    consent_columns = (
        "user_id, policy_id, last_event_id, last_kind, last_version_id, accepted_version_id, "
        "accepted_at"
    )
    with store.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cur = raw.cursor()
        if store.dialect == "sqlite":
            cur.executemany(
                f"INSERT INTO events ({event_columns}) VALUES ({', '.join('?' * 8)})", events
            )
            cur.executemany(
                f"INSERT INTO consents ({consent_columns}) VALUES ({', '.join('?' * 7)})", consents
            )
        else:  # COPY: a hundred times faster than row-by-row inserts over the network
            for table, columns, rows in (
                ("events", event_columns, events),
                ("consents", consent_columns, consents),
            ):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                # The foreign-key checks of the consents' COPY read events by id, in a plan
                # made once: with statistics that say events is empty (an ANALYZE before
                # the COPY), PostgreSQL took (user_id, id) as good as the primary key and
                # each check scanned that whole index (300,000 consents: minutes, not
                # seconds). ANALYZE counts the transaction's own rows.
                cur.execute(f"ANALYZE {table}")
            cur.execute("SELECT setval(pg_get_serial_sequence('events', 'id'), %s)", (event_id,))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    store.dispose()
    return Dataset(url, key, users, policies, versions, len(events))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


DATABASES = ("sqlite", "postgresql")
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A database URL to benchmark on: a SQLite file in ``tmp``, or a schema of its own in
    the PostgreSQL database of ``POLICY_TRACKER_TEST_POSTGRES`` (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    base = os.environ.get("POLICY_TRACKER_TEST_POSTGRES", PG_DEFAULT)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@contextmanager
def serve(
    app: str,
    env: dict[str, str],
    *,
    factory: bool = True,
    plain: bool = False,
    workers: int = 1,
) -> Iterator[str]:
    """Run ``app`` (an import string) with uvicorn, one worker unless told, no access log,
    on uvloop and httptools as ``policy-tracker serve`` does, or with ``plain`` on asyncio
    and h11 (named either way, so that an app and its baseline always run on the same
    server)."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--no-access-log"]
    loop, http = ("asyncio", "h11") if plain else ("uvloop", "httptools")
    args += ["--loop", loop, "--http", http]
    args += ["--log-level", "warning", "--app-dir", str(HERE)]
    if factory:
        args.append("--factory")
    if workers > 1:
        args += ["--workers", str(workers)]
    proc = subprocess.Popen(args, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode}")
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def bare_app() -> Any:
    """A bare Starlette app answering a fixed JSON body (the baseline), in async endpoints."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(os.environ["BENCH_BARE_BODY"]).read_bytes()
    status = int(os.environ.get("BENCH_BARE_STATUS", "200"))

    async def fixed(request: Any) -> Response:
        await request.body()
        return Response(body, status_code=status, media_type="application/json")

    async def healthz(request: Any) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/{path:path}", fixed, methods=["GET", "POST"]),
        ]
    )


@dataclass
class WrkResult:
    rps: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group(0))  # type: ignore[union-attr]
    unit = value[len(re.match(r"[\d.]+", value).group(0)) :]  # type: ignore[union-attr]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, script: Path, *, seconds: int, connections: int, threads: int = 1) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return read_wrk(out)


def read_wrk(out: str) -> WrkResult:
    """Requests/s, p99 and errors from wrk's ``--latency`` report.

    The p99 row is anchored at the start of a line: the thread table's
    ``+/- Stdev`` column can end in ``99%`` too (``84.99%``).
    """
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    except (AttributeError, KeyError, ValueError):
        raise SystemExit(f"cannot read wrk's output:\n{out}") from None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return WrkResult(rps, p99, errors)


def tracker_env(url: str, tmp: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "POLICY_TRACKER_REPOSITORY": str(tmp),
        "POLICY_TRACKER_SITE_DIR": str(tmp / "no-site"),
    }


def unchained_app() -> Any:
    """The tracker with the audit chain off (only the acceptance benchmark's baseline)."""
    from tracker.service.serve import app_from_env
    from tracker.store import chain

    chain._enabled = False  # chain_disabled() for this server process's whole lifetime
    return app_from_env()

"""Benchmark: the audit chain's cost on writes, and verifying a large chain.

In one run, on SQLite and on PostgreSQL:

* acceptance write throughput with 8 concurrent writers, with the chain off and on
  (the same ``record`` path; the chain only switched off for the baseline), and the ratio
  (target: on ≥ 0.7 × off), measured off, on, on, off, each in a fresh database, and
  averaged per side;
* ``verify`` over 1,000,000 chained events (target ≤ 30 s), with the process's peak memory
  before and after, and for a tenth of the events, to show it is flat (verify streams).

    python benchmarks/audit.py            # full size
    python benchmarks/audit.py --quick    # small sizes, seconds (run by the tests)
    python benchmarks/audit.py --databases sqlite
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, insert, update
from sqlalchemy.pool import NullPool

from tracker import migrations
from tracker.audit import verify
from tracker.chain.canonical import rfc3339
from tracker.chain.records import GENESIS, make, seal
from tracker.policy import normalise_text, sha256_text
from tracker.settings import Settings
from tracker.store import Store, load_snapshot
from tracker.store.audit_models import AuditHeadRow
from tracker.store.chain import chain_disabled
from tracker.store.events import NewEvent, record
from tracker.store.models import EventRow
from tracker.store.publish import publish as publish_policies

PG_URL = os.environ.get(
    "POLICY_TRACKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
console = Console(highlight=False)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def database(kind: str, folder: Path) -> Iterator[Store]:
    if kind == "sqlite":
        settings = Settings(database_url=f"sqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}")
        store = Store.open(settings)
        try:
            migrations.upgrade(store.engine)
            yield store
        finally:
            store.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    store = Store.open(Settings(pool_size=10), f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        migrations.upgrade(store.engine)
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _publish(store: Store) -> None:
    from tracker.policy import Policy, PolicySettings, Significance, SignificanceSource, Version

    text = normalise_text("Privacy", "We keep little.\n")
    version = Version(
        policy="privacy",
        number=1,
        commit="1" * 40,
        published=T0,
        author="",
        title="Privacy",
        text=text,
        sha256=sha256_text(text),
        significance=Significance.MAJOR,
        significance_source=SignificanceSource.DECLARED,
        summary="",
        effective=T0.date(),
    )
    policy = Policy(
        slug="privacy",
        path="policy/privacy.md",
        settings=PolicySettings(title="Privacy"),
        versions=(version,),
    )
    store.write(lambda s: publish_policies(s, [policy], now=T0))


def throughput(store: Store, n: int, writers: int, tag: str) -> float:
    with store.read() as session:
        snapshot = load_snapshot(session)
    policy = snapshot.policy("privacy")
    version = policy.version(1)
    per = n // writers
    barrier = threading.Barrier(writers)

    def run(w: int) -> None:
        barrier.wait()
        for i in range(per):
            new = NewEvent(
                user_id=f"{tag}-{w}-{i}",
                kind="accepted",
                method="clickwrap",
                api_key_id=None,
                ip="192.0.2.1",
                user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                locale="en",
                context={"page": "/signup"},
            )
            now = datetime.now(UTC)
            store.write(
                partial(record, snapshot=snapshot, policy=policy, version=version, new=new, now=now)
            )

    start = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(run, range(writers)))
    return per * writers / (time.perf_counter() - start)


def fill(store: Store, n: int, progress: Progress) -> None:
    """``n`` chained events written directly (fast), as the service would have chained them."""
    task = progress.add_task(f"chaining {n:,} events", total=n)
    prev, batch = GENESIS, []
    with store.engine.begin() as conn:
        for seq in range(1, n + 1):
            created = T0 + timedelta(seconds=seq)
            personal = {
                "user_id": f"user{seq}",
                "ip": f"10.{seq % 250}.{seq % 200}.{seq % 100}",
                "user_agent": "Mozilla/5.0 Firefox/140.0",
                "context": None,
            }
            data = {
                "kind": "accepted",
                "policy_id": 1,
                "version_id": 1,
                "version_sha256": None,
                "method": "clickwrap",
                "api_key_id": None,
                "locale": "en",
                "recorded_at": rfc3339(created),
            }
            batch.append((seq, data, personal, created))
            if len(batch) == 10_000 or seq == n:
                rows = []
                for s, d, p, c in batch:
                    d["version_sha256"] = SHA
                    r = seal(make(s, "event", d, p), prev)
                    prev = r.hash
                    rows.append(
                        {
                            **p,
                            "policy_id": 1,
                            "version_id": 1,
                            "kind": "accepted",
                            "method": "clickwrap",
                            "api_key_id": None,
                            "locale": "en",
                            "created_at": c,
                            "chain_seq": s,
                            "chain_prev": r.prev_hash,
                            "chain_hash": r.hash,
                            "commitments": r.commitments,
                            "user_id_salt": r.salts.get("user_id"),
                            "ip_salt": r.salts.get("ip"),
                            "user_agent_salt": r.salts.get("user_agent"),
                            "context_salt": None,
                        }
                    )
                conn.execute(insert(EventRow), rows)
                progress.update(task, advance=len(batch))
                batch = []
        conn.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(seq=n, hash=prev))
        # The derived state the tracker keeps beside the events (verify checks it).
        conn.exec_driver_sql(
            "INSERT INTO consents (user_id, policy_id, last_event_id, last_kind,"
            " last_version_id, accepted_version_id, accepted_at) SELECT user_id,"
            " policy_id, id, kind, version_id, version_id, created_at FROM events"
        )
    progress.remove_task(task)


SETTINGS = Settings(database_url="sqlite://")
SHA = sha256_text(normalise_text("Privacy", "We keep little.\n"))


T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--events", type=int, help="events to verify (default 1,000,000)")
    parser.add_argument("--writes", type=int, help="acceptances per throughput run")
    args = parser.parse_args()
    writes = args.writes or (400 if args.quick else 4000)
    events = args.events or (20_000 if args.quick else 1_000_000)
    writers = 8
    table = Table(title="audit chain benchmark")
    for col in ("database", "figure", "measured", "baseline / target", "ratio", "met"):
        table.add_column(col)
    failed = False
    with tempfile.TemporaryDirectory() as tmp, Progress(transient=True, console=console) as bar:
        for kind in args.databases.split(","):

            def measure(chain: bool, kind: str = kind) -> float:
                """Writes/s in a database of its own: neither side sees the other's rows."""
                with database(kind, Path(tmp)) as store:
                    _publish(store)
                    with nullcontext() if chain else chain_disabled():
                        throughput(store, writers * 10, writers, "warm")
                        return throughput(store, writes, writers, "measured")

            # Off, on, on, off, each side averaged: the machine's speed drifts during a run,
            # and this order cancels a steady drift instead of handing it to one side.
            off = measure(False)
            on = (measure(True) + measure(True)) / 2
            off = (off + measure(False)) / 2
            ratio = on / off
            failed |= ratio < 0.7
            table.add_row(
                kind,
                f"acceptances/s, {writers} writers, chain on",
                f"{on:,.0f}/s",
                f"chain off {off:,.0f}/s",
                f"{ratio:.2f}",
                "yes" if ratio >= 0.7 else "NO (target ≥ 0.7)",
            )
            for size in (events // 10, events):
                with database(kind, Path(tmp)) as store:
                    _publish(store)
                    fill(store, size, bar)
                    before = peak_mb()
                    seconds, report = timed(partial(verify, store, SETTINGS))
                    after = peak_mb()
                    assert report.ok, report.message
                    ok = seconds <= 30 * size / 1_000_000 or size < events
                    failed |= not ok
                    table.add_row(
                        kind,
                        f"verify {size:,} events",
                        f"{seconds:.1f} s ({size / seconds:,.0f}/s)",
                        f"≤ {30 * size / 1_000_000:.1f} s",
                        f"{seconds / (30 * size / 1_000_000):.2f}",
                        "yes" if ok else "NO",
                    )
                    table.add_row(
                        kind,
                        f"peak memory during verify of {size:,}",
                        f"{after:,.0f} MB",
                        f"{before:,.0f} MB before",
                        f"+{after - before:,.0f} MB",
                        "flat" if after - before < 100 else "grows",
                    )
    console.print(table)
    if failed and not args.quick:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Benchmark: notice fan-out for a major version, beside the bare ``INSERT … SELECT``.

A policy whose 1,000,000 users accepted version 1 (half of them version 2, a minor) gets a
major version 3. Timed: the whole publish transaction that stores the version and creates
its notices, supersedes nothing, writes the ``notice.created`` messages (1,000 user ids
each) and their deliveries to one endpoint, and commits. Baseline, in the same run on the
same data: the bare ``INSERT INTO notices … SELECT … FROM consents`` and its commit.

Targets: ratio ≤ 1.5 on SQLite and PostgreSQL; peak memory of the process ≤ 300 MB.

    python benchmarks/fanout.py            # 1,000,000 users
    python benchmarks/fanout.py --quick    # 20,000 users (run by the tests)
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbbench import scratch_url, series

from tracker import migrations
from tracker.notices.urls import AllowList
from tracker.notices.webhooks import add_endpoint
from tracker.policy import (
    Policy,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    sha256_text,
)
from tracker.settings import Settings
from tracker.store import Store, publish

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _policy(count: int) -> Policy:
    kinds = [Significance.MAJOR, Significance.MINOR, Significance.MAJOR]
    versions = []
    for n in range(1, count + 1):
        body = f"# Privacy\n\nVersion {n} text.\n"
        versions.append(
            Version(
                policy="privacy",
                number=n,
                commit=f"{n:040x}",
                published=T0 + timedelta(days=n),
                author="bench",
                title="Privacy",
                text=body,
                sha256=sha256_text(body),
                significance=kinds[n - 1],
                significance_source=SignificanceSource.DECLARED,
                summary=f"v{n}",
                effective=(T0 + timedelta(days=n)).date(),
            )
        )
    return Policy(
        slug="privacy",
        path="policy/privacy.md",
        settings=PolicySettings(title="Privacy"),
        versions=tuple(versions),
    )


BARE = (
    "INSERT INTO notices (user_id, policy_id, from_version_id, to_version_id, significance, "
    "acceptance_required, created_at) SELECT user_id, 1, accepted_version_id, 3, 'major', "
    "{true}, :now FROM consents WHERE policy_id = 1 AND last_kind = 'accepted' "
    "AND accepted_version_id IN (1, 2)"
)


def run(url: str, users: int) -> tuple[float, float, int]:
    store = Store.open(Settings(database_url=url))
    migrations.upgrade(store.engine)
    dialect = store.dialect
    store.write(lambda s: publish(s, [_policy(2)], now=T0))
    store.write(
        lambda s: add_endpoint(
            s, "https://hooks.example.com/", ("notice.created",), AllowList(""), T0
        )
    )
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consents (user_id, policy_id, last_kind, last_version_id, "
                "accepted_version_id) SELECT 'user-' || g, 1, 'accepted', 1 + g % 2, 1 + g % 2 "
                f"FROM ({series(dialect, users)}) AS series"
            )
        )
        # The version 3 row the bare statement refers to, removed again before the publish.
        conn.execute(text("ANALYZE"))
    bare_sql = BARE.format(true="true" if dialect == "postgresql" else "1")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO versions (id, policy_id, number, "commit", published_at, '
                "effective_on, significance, significance_source, summary, title, author, path, "
                'text, sha256, created_at) SELECT 3, policy_id, 3, "commit", published_at, '
                "effective_on, 'major', significance_source, summary, title, author, path, text, "
                "sha256, created_at FROM versions WHERE id = 2"
            )
        )
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        conn.execute(text(bare_sql), {"now": T0.replace(tzinfo=None)})
    bare = time.perf_counter() - t0
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM notices"))
        conn.execute(text("DELETE FROM versions WHERE id = 3"))
    # Both statements start from the same state: the deleted rows' space reclaimed.
    if dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        raw = store.engine.raw_connection()  # autocommit: VACUUM runs outside a transaction
        try:
            raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    policy = _policy(3)
    t0 = time.perf_counter()
    store.write(lambda s: publish(s, [policy], now=T0 + timedelta(days=3)))
    full = time.perf_counter() - t0
    with store.engine.connect() as conn:
        made = conn.execute(text("SELECT count(*) FROM notices")).scalar_one()
        messages = conn.execute(text("SELECT count(*) FROM outbox_messages")).scalar_one()
    store.dispose()
    assert made == users, (made, users)
    print(f"  {dialect}: {made:,} notices, {messages:,} messages", flush=True)
    return full, bare, messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 users")
    parser.add_argument("--users", type=int)
    args = parser.parse_args(argv)
    users = args.users or (20_000 if args.quick else 1_000_000)
    rows = []
    for dialect in ("sqlite", "postgresql"):
        with scratch_url(dialect, "fanout") as url:
            rows.append((dialect, *run(url, users)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nnotice fan-out for {users:,} users (one major version, one endpoint)")
    print(f"{'database':<12}{'notices+deliveries':>20}{'bare INSERT…SELECT':>20}{'ratio':>8}")
    ok = True
    for name, full, bare, _ in rows:
        ratio = full / bare
        ok &= ratio <= 1.5
        print(f"{name:<12}{full:>19.2f}s{bare:>19.2f}s{ratio:>8.2f}")
    print(f"peak RSS {peak:.0f} MB (target ≤ 300 MB); ratio target ≤ 1.5")
    ok &= peak <= 300
    print("targets met" if ok else "TARGETS MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the console's overview and version page beside the bare aggregate queries.

A policy with three versions (1 major, 2 minor, 3 major in force for 30 days) and N users
(1,000,000 by default) with 3 events each (3,000,000): every user accepted versions 1 and
2, nine in ten accepted version 3 and one in ten declined it; each has a notice of
version 3. Timed, in the same run on the same data: the page as the browser gets it (GET
through the ASGI app, signed in: session check, queries, template) and, as the baseline,
the bare aggregate queries the page shows (the counts, notices, chain state, deliveries;
for the version page also the adoption roll-up's rows and the first page of users who must
still accept). The version page's first view of a day builds the roll-up: reported apart.

Targets: overview ≤ 300 ms and version page ≤ 500 ms (median of 5) on SQLite and
PostgreSQL, with the console's counts kept for ``console_figures_seconds`` (60) as served;
the pages counted anew on every view (0) are printed too.

    python benchmarks/console.py            # 1,000,000 users, 3,000,000 events
    python benchmarks/console.py --quick    # 20,000 users (run by the tests)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tracker import migrations
from tracker.console import new_link
from tracker.policy import (
    Policy,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    sha256_text,
)
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store, dashboard, load_snapshot, publish
from tracker.store.events import version_stats
from tracker.store.notices.queries import notice_stats

PG_URL = os.environ.get(
    "POLICY_TRACKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
TODAY = T0 + timedelta(days=330, hours=12)
DAYS = {1: 1, 2: 100, 3: 300}  # publication day of each version


def _policy() -> Policy:
    kinds = {1: Significance.MAJOR, 2: Significance.MINOR, 3: Significance.MAJOR}
    versions = []
    for n, day in DAYS.items():
        body = f"# Privacy\n\nVersion {n} text.\n"
        published = T0 + timedelta(days=day)
        versions.append(
            Version(
                policy="privacy",
                number=n,
                commit=f"{n:040x}",
                published=published,
                author="bench",
                title="Privacy",
                text=body,
                sha256=sha256_text(body),
                significance=kinds[n],
                significance_source=SignificanceSource.DECLARED,
                summary=f"v{n}",
                effective=published.date(),
            )
        )
    return Policy(
        slug="privacy",
        path="policy/privacy.md",
        settings=PolicySettings(title="Privacy"),
        versions=tuple(versions),
    )


def _series(dialect: str, users: int) -> str:
    if dialect == "postgresql":
        return f"SELECT g FROM generate_series(0, {users - 1}) g"
    return (
        f"WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < {users - 1}) "
        "SELECT g FROM s"
    )


def _at(dialect: str, day: str) -> str:
    """A time ``day`` days (an SQL expression) after T0, plus a spread of seconds."""
    if dialect == "postgresql":
        return (
            "(TIMESTAMPTZ '2025-01-01 00:00:00+00' + "
            f"({day}) * INTERVAL '1 day' + (g % 80000) * INTERVAL '1 second')"
        )
    return (
        "strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', "
        f"'+' || ({day}) || ' days', '+' || (g % 80000) || ' seconds')"
    )


def load(store: Store, users: int) -> None:
    dialect = store.dialect
    store.write(lambda s: publish(s, [_policy()], now=T0 + timedelta(days=300)))
    series = _series(dialect, users)
    v3_kind = "CASE WHEN g % 10 = 0 THEN 'declined' ELSE 'accepted' END"
    with store.engine.begin() as conn:
        for version, kind, day in [
            (1, "'accepted'", "1 + g % 90"),
            (2, "'accepted'", "100 + g % 100"),
            (3, v3_kind, "300 + g % 30"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO events (user_id, policy_id, version_id, kind, method, created_at) "
                    f"SELECT 'user-' || g, 1, {version}, {kind}, 'api', {_at(dialect, day)} "
                    f"FROM ({series}) AS series"
                )
            )
        conn.execute(
            text(
                "INSERT INTO consents (user_id, policy_id, last_kind, last_version_id, "
                f"accepted_version_id, accepted_at) SELECT 'user-' || g, 1, {v3_kind}, 3, "
                "CASE WHEN g % 10 = 0 THEN 2 ELSE 3 END, "
                f"{_at(dialect, 'CASE WHEN g % 10 = 0 THEN 100 + g % 100 ELSE 300 + g % 30 END')} "
                f"FROM ({series}) AS series"
            )
        )
        true = "true" if dialect == "postgresql" else "1"
        conn.execute(
            text(
                "INSERT INTO notices (user_id, policy_id, from_version_id, to_version_id, "
                "significance, acceptance_required, created_at, closed_at, closed_reason) "
                f"SELECT 'user-' || g, 1, 2, 3, 'major', {true}, {_at(dialect, '300')}, "
                f"CASE WHEN g % 10 = 0 THEN NULL ELSE {_at(dialect, '300 + g % 30')} END, "
                "CASE WHEN g % 10 = 0 THEN NULL ELSE 'accepted' END "
                f"FROM ({series}) AS series"
            )
        )
    if dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def median_ms(work: Callable[[], object], runs: int = 5) -> float:
    work()  # warm: caches, the catalog, the session's touch
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(url: str, users: int) -> dict[str, float]:
    settings = Settings(database_url=url, site_dir=Path(tempfile.gettempdir()) / "no-site")
    store = Store.open(settings)
    migrations.upgrade(store.engine)
    t0 = time.perf_counter()
    load(store, users)
    print(
        f"  {store.dialect}: loaded {users:,} users, {3 * users:,} events in "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    today = TODAY.date()

    def api_stats() -> None:
        with store.read() as session:
            policy = load_snapshot(session).policy("privacy")
            version_stats(session, policy, policy.version(3))

    def bare_overview() -> None:
        with store.read() as session:
            policy = load_snapshot(session).policy("privacy")
            version = policy.version(3)
            dashboard.version_figures(session, policy, version, today)
            notice_stats(session, version.id)
            dashboard.chain_state(session)
            dashboard.deliveries_since(session, TODAY - timedelta(hours=24))

    def bare_version() -> None:
        with store.read() as session:
            policy = load_snapshot(session).policy("privacy")
            version = policy.version(3)
            dashboard.version_figures(session, policy, version, today)
            notice_stats(session, version.id)
            dashboard.adoption(session, version.id, today)
            dashboard.adoption(session, policy.version(1).id, today)
            dashboard.must_accept(session, policy, version)

    figures: dict[str, float] = {}
    cold = replace(settings, console_figures_seconds=0)
    app = create_app(settings, store=store, clock=lambda: TODAY)
    with TestClient(app) as client:
        link = urlsplit(new_link(store, settings, "viewer", "bench", TODAY)).path
        assert client.post(link, follow_redirects=False).status_code == 303
        t0 = time.perf_counter()
        assert client.get("/console/policies/privacy/versions/3").status_code == 200
        figures["rollup_first_view"] = (time.perf_counter() - t0) * 1000
        figures["api_stats"] = median_ms(api_stats)
        figures["bare_overview"] = median_ms(bare_overview)
        figures["overview"] = median_ms(lambda: _ok(client.get("/console/")))
        figures["bare_version"] = median_ms(bare_version)
        figures["version"] = median_ms(
            lambda: _ok(client.get("/console/policies/privacy/versions/3"))
        )
        print(f"  {store.dialect}: warm pages measured", flush=True)
    # Cold: every view counts anew (console_figures_seconds = 0).
    app = create_app(cold, store=store, clock=lambda: TODAY)
    with TestClient(app) as client:
        link = urlsplit(new_link(store, settings, "viewer", "bench", TODAY)).path
        assert client.post(link, follow_redirects=False).status_code == 303
        figures["overview_cold"] = median_ms(lambda: _ok(client.get("/console/")), runs=3)
        figures["version_cold"] = median_ms(
            lambda: _ok(client.get("/console/policies/privacy/versions/3")), runs=3
        )
        # The next day: the first view extends the roll-up by one day.
    tomorrow = TODAY + timedelta(days=1)
    app = create_app(settings, store=store, clock=lambda: tomorrow)
    with TestClient(app) as client:
        link = urlsplit(new_link(store, settings, "viewer", "bench", tomorrow)).path
        assert client.post(link, follow_redirects=False).status_code == 303
        t0 = time.perf_counter()
        _ok(client.get("/console/policies/privacy/versions/3"))
        figures["rollup_next_day"] = (time.perf_counter() - t0) * 1000
    store.dispose()
    return figures


def _ok(response: object) -> None:
    assert getattr(response, "status_code", 0) == 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 users")
    parser.add_argument("--users", type=int)
    args = parser.parse_args(argv)
    users = args.users or (20_000 if args.quick else 1_000_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("sqlite", run(f"sqlite:///{Path(tmp) / 'console.sqlite3'}", users)))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        sep = "&" if "?" in PG_URL else "?"
        rows.append(("postgresql", run(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", users)))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    print(f"\nconsole pages for {users:,} users, {3 * users:,} events (median of 5, ms)")
    print("page: as served, the counts kept console_figures_seconds (60 s)")
    print(
        f"{'database':<12}{'page':<10}{'page ms':>10}{'bare aggregates ms':>20}{'ratio':>8}"
        f"{'target ms':>11}"
    )
    ok = True
    for name, f in rows:
        for page, target in (("overview", 300), ("version", 500)):
            ms, bare = f[page], f[f"bare_{page}"]
            ok &= ms <= target
            print(f"{name:<12}{page:<10}{ms:>10.0f}{bare:>20.0f}{ms / bare:>8.2f}{target:>11}")
        for page in ("overview", "version"):
            print(
                f"{name:<12}{page + ' cold':<16}{f[page + '_cold']:>6.0f} ms: counted anew on "
                f"every view (POLICY_TRACKER_CONSOLE_FIGURES_SECONDS=0), "
                f"{f[page + '_cold'] / f['bare_' + page]:.2f} × the bare aggregates"
            )
        print(
            f"{name:<12}first view ever (roll-up built): {f['rollup_first_view']:.0f} ms; "
            f"first view of the next day (roll-up extended): {f['rollup_next_day']:.0f} ms"
        )
        print(f"{name:<12}the API's version stats (five aggregates): {f['api_stats']:.0f} ms")
    print("targets met (as served, counts kept 60 s)" if ok else "TARGETS MISSED (as served)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

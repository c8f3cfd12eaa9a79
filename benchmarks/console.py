"""Benchmark: the console's overview and version page beside the same figures counted anew.

A policy with three versions (1 major, 2 minor, 3 major in force for 30 days) and N users
(1,000,000 by default) with 3 events each (3,000,000): every user accepted versions 1 and
2, nine in ten accepted version 3 and one in ten declined it; each has a notice of
version 3. The rows are loaded at revision 0008 and the upgrade (0009 on) counts them (timed).
Timed, in the same run on the same data: the pages as the browser gets them (GET through
the ASGI app, signed in: session check, queries, template) on the first view of a new app
(a restart), warm, and after N/50 more acceptances (on PostgreSQL their deltas are added up
by each view until compacted) and after the compaction; and, as the baseline, the same
figures counted anew from the rows: the API's version and notice stats, the chain's state,
the deliveries of the day, and for the version page the adoption curves of versions 3 and 1
counted from the events and the first page of users who must still accept. And who must
still accept version 3 (one user in ten): the last page by its cursor (as "Next page" links
it) beside the same page by its number (OFFSET), and the whole CSV download, whose walk in
chunks (each from the last user written) is timed beside the OFFSET walk it replaced.

Targets: overview ≤ 300 ms and version page ≤ 500 ms on SQLite and PostgreSQL, every view.

    python benchmarks/console.py            # 1,000,000 users, 3,000,000 events
    python benchmarks/console.py --quick    # 20,000 users (run by the tests)
    python benchmarks/console.py --database postgresql --users 200000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from sqlalchemy import Date, cast, func, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from dbbench import analyze, dialects, median_ms, scratch_url, series

from tracker import migrations
from tracker.console import new_link
from tracker.console.pages import CSV_CHUNK
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
from tracker.store import (
    PolicyInfo,
    Store,
    VersionInfo,
    counts,
    dashboard,
    load_snapshot,
    publish,
)
from tracker.store.events import version_stats
from tracker.store.models import EventRow
from tracker.store.notices.queries import notice_stats

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TODAY = T0 + timedelta(days=330, hours=12)
DAYS = {1: 1, 2: 100, 3: 300}  # publication day of each version
VERSION = "/console/policies/privacy/versions/3"


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
    numbers = series(dialect, users)
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
                    f"FROM ({numbers}) AS series"
                )
            )
        conn.execute(
            text(
                "INSERT INTO consents (user_id, policy_id, last_kind, last_version_id, "
                f"accepted_version_id, accepted_at) SELECT 'user-' || g, 1, {v3_kind}, 3, "
                "CASE WHEN g % 10 = 0 THEN 2 ELSE 3 END, "
                f"{_at(dialect, 'CASE WHEN g % 10 = 0 THEN 100 + g % 100 ELSE 300 + g % 30 END')} "
                f"FROM ({numbers}) AS series"
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
                f"FROM ({numbers}) AS series"
            )
        )


def once_ms(work: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    work()
    return (time.perf_counter() - t0) * 1000


def first_days(session: Session, version_id: int) -> list[tuple[object, int]]:
    """The adoption curve counted from the events (as the console did before 0009): users by the
    day of their first acceptance."""
    first = (
        select(func.min(EventRow.created_at).label("first"))
        .where(EventRow.version_id == version_id, EventRow.kind == "accepted")
        .group_by(EventRow.user_id)
        .subquery()
    )
    day = (
        cast(func.timezone("UTC", first.c.first), Date)
        if session.get_bind().dialect.name == "postgresql"
        else func.date(first.c.first)
    )
    return [(x, int(n)) for x, n in session.execute(select(day, func.count()).group_by(day))]


def add_acceptances(store: Store, users: int) -> None:
    """``users`` new users accept version 3 today, in one statement each for events and
    consents (the triggers count them row by row)."""
    dialect = store.dialect
    numbers = series(dialect, users)
    at = "CAST(:at AS TIMESTAMPTZ)" if dialect == "postgresql" else ":at"
    when = {"at": TODAY if dialect == "postgresql" else TODAY.strftime("%Y-%m-%d %H:%M:%S")}
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (user_id, policy_id, version_id, kind, method, created_at) "
                f"SELECT 'late-' || g, 1, 3, 'accepted', 'api', {at} FROM ({numbers}) AS series"
            ),
            when,
        )
        conn.execute(
            text(
                "INSERT INTO consents (user_id, policy_id, last_kind, last_version_id, "
                f"accepted_version_id, accepted_at) SELECT 'late-' || g, 1, 'accepted', 3, 3, "
                f"{at} FROM ({numbers}) AS series"
            ),
            when,
        )


def run(url: str, users: int, late: int) -> dict[str, float]:
    settings = Settings(database_url=url, site_dir=Path(tempfile.gettempdir()) / "no-site")
    store = Store.open(settings)
    figures: dict[str, float] = {}
    # The rows are loaded before the counts exist (0008), as in a database upgraded to
    # 0009: the migration counts them (timed). The policy is published first, by the
    # store's code, on the schema that code writes (the newest).
    migrations.upgrade(store.engine)
    store.write(lambda s: publish(s, [_policy()], now=T0 + timedelta(days=300)))
    migrations.downgrade(store.engine, "0008")
    t0 = time.perf_counter()
    load(store, users)
    print(
        f"  {store.dialect}: loaded {users:,} users, {3 * users:,} events in "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    figures["migration"] = once_ms(lambda: migrations.upgrade(store.engine))
    analyze(store)

    def counted_anew(session: Session) -> tuple[PolicyInfo, VersionInfo]:
        policy = load_snapshot(session).policy("privacy")
        version = policy.version(3)
        version_stats(session, policy, version)
        notice_stats(session, version.id)
        return policy, version

    def bare_overview() -> None:
        with store.read() as session:
            counted_anew(session)
            dashboard.chain_state(session)
            dashboard.deliveries_since(session, TODAY - timedelta(hours=24))

    def bare_version() -> None:
        with store.read() as session:
            policy, version = counted_anew(session)
            first_days(session, version.id)
            first_days(session, policy.version(1).id)
            dashboard.must_accept(session, policy, version)

    def kept_queries() -> None:
        with store.read() as session:
            policy = load_snapshot(session).policy("privacy")
            version = policy.version(3)
            dashboard.version_figures(session, policy, version)
            counts.notice_figures(session, version.id)
            dashboard.adoption(session, policy.version(1).id)

    def pages(label: str, runs: int = 5) -> None:
        figures[f"overview_{label}"] = median_ms(lambda: _ok(client.get("/console/")), runs)
        figures[f"version_{label}"] = median_ms(lambda: _ok(client.get(VERSION)), runs)

    # A restart: a new app (its templates, catalog and connections new), the first views.
    app = create_app(settings, store=store, clock=lambda: TODAY)
    with TestClient(app) as client:
        link = urlsplit(new_link(store, settings, "viewer", "bench", TODAY)).path
        assert client.post(link, follow_redirects=False).status_code == 303
        figures["overview_first"] = once_ms(lambda: _ok(client.get("/console/")))
        figures["version_first"] = once_ms(lambda: _ok(client.get(VERSION)))
        pages("warm")
        figures.update(deep(store, client))
        figures["kept_queries"] = median_ms(kept_queries)
        print(f"  {store.dialect}: pages measured; counting anew…", flush=True)
        figures["api_stats"] = median_ms(lambda: bare_api(store), 3, warm=False)
        figures["bare_overview"] = median_ms(bare_overview, 3, warm=False)
        figures["bare_version"] = median_ms(bare_version, 3, warm=False)
        # Writes since the last compaction: on PostgreSQL the pages add up their deltas.
        add_acceptances(store, late)
        pages("after_writes", 3)
        figures["compaction"] = once_ms(lambda: store.write(counts.compact))
        pages("compacted", 3)
    store.dispose()
    return figures


def walk(store: Store, *, seek: bool) -> int:
    """Every user who must accept version 3, in chunks of the CSV's size: each from the last
    user of the one before (the CSV's walk) or by OFFSET (the walk before it); how many."""
    seen, after = 0, None
    with store.read() as session:
        policy = load_snapshot(session).policy("privacy")
        version = policy.version(3)
        while True:
            rows = dashboard.must_accept(
                session,
                policy,
                version,
                after=after if seek else None,
                offset=0 if seek else seen,
                limit=CSV_CHUNK,
            )
            seen += len(rows)
            if len(rows) < CSV_CHUNK:
                return seen
            after = rows[-1].user_id


def deep(store: Store, client: TestClient) -> dict[str, float]:
    """The last page of who must accept, by its cursor (the page before's "Next page") and
    by its number (OFFSET); the whole CSV through the app; the walk the CSV makes beside the
    OFFSET walk it replaced, in process."""
    with store.read() as session:
        policy = load_snapshot(session).policy("privacy")
        version = policy.version(3)
        total = dashboard.must_accept_count(session, policy, version)
        last = max(1, -(-total // dashboard.PAGE_SIZE))
        first = dashboard.must_accept(
            session, policy, version, offset=(last - 1) * dashboard.PAGE_SIZE, limit=1
        )[0]
        before = dashboard.must_accept(session, policy, version, before=first.user_id, limit=1)
    cursor = f"&after={quote(before[0].user_id)}" if before else ""
    csv_lines = []

    def csv() -> None:
        r = client.get(VERSION + "/must-accept.csv")
        _ok(r)
        csv_lines.append(r.text.count("\n") - 1)

    out = {
        "deep_cursor": median_ms(lambda: _ok(client.get(f"{VERSION}?page={last}{cursor}"))),
        "deep_offset": median_ms(lambda: _ok(client.get(f"{VERSION}?page={last}"))),
        "csv": median_ms(csv, 3),
        "walk_seek": median_ms(lambda: walk(store, seek=True), 3),
        "walk_offset": median_ms(lambda: walk(store, seek=False), 3),
        "must_accept": float(total),
        "deep_page": float(last),
    }
    assert set(csv_lines) == {total} and walk(store, seek=True) == walk(store, seek=False) == total
    return out


def bare_api(store: Store) -> None:
    with store.read() as session:
        policy = load_snapshot(session).policy("privacy")
        version_stats(session, policy, policy.version(3))


def _ok(response: object) -> None:
    assert getattr(response, "status_code", 0) == 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 users")
    parser.add_argument("--users", type=int)
    parser.add_argument("--writes", type=int, help="acceptances after the first views")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    users = args.users or (20_000 if args.quick else 1_000_000)
    late = args.writes or max(1000, users // 50)
    rows = []
    for dialect in dialects(args.database):
        with scratch_url(dialect, "console") as url:
            rows.append((dialect, run(url, users, late)))
    print(
        f"\nconsole pages for {users:,} users, {3 * users:,} events, ms: the first view after "
        f"a restart; warm (median of 5); after {late:,} more acceptances, before and after the "
        "compaction (median of 3); beside the same figures counted anew from the rows "
        "(median of 3)"
    )
    head = ("first", "warm", "writes", "compacted", "counted anew", "warm/anew", "target")
    print(f"{'database':<12}{'page':<10}" + "".join(f"{h:>13}" for h in head))
    ok = True
    for name, f in rows:
        for page, target in (("overview", 300), ("version", 500)):
            shown = [f[f"{page}_{k}"] for k in ("first", "warm", "after_writes", "compacted")]
            ok &= max(shown) <= target
            bare = f[f"bare_{page}"]
            cells = [*(f"{ms:.0f}" for ms in shown), f"{bare:.0f}", f"{shown[1] / bare:.3f}"]
            print(f"{name:<12}{page:<10}" + "".join(f"{c:>13}" for c in [*cells, str(target)]))
        print(
            f"{name:<12}who must accept ({f['must_accept']:,.0f} users): page "
            f"{f['deep_page']:,.0f} (the last) by its cursor {f['deep_cursor']:.0f} ms, by its "
            f"number (OFFSET) {f['deep_offset']:.0f} ms, "
            f"{f['deep_cursor'] / f['deep_offset']:.3f} x; the whole CSV through the app "
            f"{f['csv']:.0f} ms; its walk in chunks of {CSV_CHUNK:,} by seek "
            f"{f['walk_seek']:.0f} ms, by OFFSET (before) {f['walk_offset']:.0f} ms, "
            f"{f['walk_seek'] / f['walk_offset']:.3f} x"
        )
        print(
            f"{name:<12}the counts' own queries {f['kept_queries']:.0f} ms; the API's version "
            f"stats (five aggregates) {f['api_stats']:.0f} ms; the counts made by the "
            f"migration (0008 → the newest) in {f['migration'] / 1000:.1f} s; compaction "
            f"after the writes {f['compaction']:.0f} ms"
        )
    print("targets met on every view" if ok else "TARGETS MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: status in the reader's language against status without a language.

Builds the database of ``benchmarks/status.py`` (SQLite, or PostgreSQL from
``POLICY_TRACKER_TEST_POSTGRES``), gives every policy a German and a French translation
(German current, French stale), serves the tracker once and loads it with ``wrk`` (random
users), alternating ``GET /v1/users/{id}/status`` (the baseline) and
``GET /v1/users/{id}/status?locale=de-DE``, three rounds each; the best round of each counts.
Target: status with a locale ≥ 0.90 × the requests/s of status without (within 10 %).

    python benchmarks/status_locale.py                          # full size, SQLite
    python benchmarks/status_locale.py --database postgresql    # full size, PostgreSQL
    python benchmarks/status_locale.py --quick                  # small, seconds (the tests)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from tracker_bench import DATABASES, WrkResult, database, populate, serve, tracker_env, wrk

from tracker.settings import Settings
from tracker.store import Store
from tracker.store.models import VersionRow
from tracker.store.publish import bump_revision
from tracker.store.translations import TranslationVersionRow

TARGET = 0.90
LUA = """
local key = "{key}"
local users = {users}
math.randomseed(os.time())
request = function()
  local path = "/v1/users/user-" .. math.random(0, users - 1) .. "/status{query}"
  return wrk.format("GET", path, {{["Authorization"] = "Bearer " .. key}})
end
"""


def translate(url: str) -> int:
    """A German version of every source version and a French one of the first: German is
    current, French stale. Returns how many translation versions were stored."""
    store = Store.open(Settings(database_url=url))
    now = datetime.now(UTC)

    def write(session: Session) -> int:
        rows = session.execute(
            select(VersionRow.id, VersionRow.policy_id, VersionRow.number, VersionRow.text)
        ).all()
        count = {"de": 0, "fr": 0}
        for vid, pid, number, text in rows:
            for language in ("de", "fr") if number == 1 else ("de",):
                count[language] += 1
                session.add(
                    TranslationVersionRow(
                        policy_id=pid, language=language, number=number,
                        translates_version_id=vid, commit="0" * 40, published_at=now,
                        effective_on=date(2000, 1, 1), title=f"Policy ({language})",
                        path="", text=f"[{language}] {text}", sha256="0" * 64, created_at=now,
                    )
                )  # fmt: skip
        bump_revision(session)
        return sum(count.values())

    try:
        return store.write(write)
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    args = parser.parse_args(argv)
    users = 2_000 if args.quick else 100_000
    seconds = 2 if args.quick else 8
    with tempfile.TemporaryDirectory() as tmp_name, database(args.database, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        data = populate(url, users=users)
        translations = translate(url)
        plain, localised = tmp / "plain.lua", tmp / "locale.lua"
        plain.write_text(LUA.format(key=data.key, users=users, query=""))
        localised.write_text(LUA.format(key=data.key, users=users, query="?locale=de-DE"))
        headers = {"Authorization": f"Bearer {data.key}"}
        with serve("tracker.service.serve:app_from_env", tracker_env(url, tmp)) as base:
            sample = httpx.get(f"{base}/v1/users/user-1/status?locale=de-DE", headers=headers)
            assert sample.status_code == 200, sample.text
            first = sample.json()["policies"][0]["translation"]
            assert first is not None and first["language"] == "de", sample.text
            without = httpx.get(f"{base}/v1/users/user-1/status", headers=headers)
            wrk(base, plain, seconds=1, connections=args.connections)  # warm up
            wrk(base, localised, seconds=1, connections=args.connections)
            rounds: dict[str, list[WrkResult]] = {"plain": [], "locale": []}
            for _ in range(3):
                for name, script in (("plain", plain), ("locale", localised)):
                    rounds[name].append(
                        wrk(base, script, seconds=seconds, connections=args.connections)
                    )
    best = {name: max(results, key=lambda r: r.rps) for name, results in rounds.items()}
    ratio = best["locale"].rps / best["plain"].rps
    errors = sum(r.errors for results in rounds.values() for r in results)
    print(
        f"GET /v1/users/{{id}}/status, {args.database}, {data.users:,} users, "
        f"{data.policies} policies × {data.versions} versions, {translations} translation "
        f"versions, {args.connections} connections (best of 3 rounds of {seconds} s each)"
    )
    print(
        f"status without locale (baseline): {best['plain'].rps:,.0f} requests/s, "
        f"p99 {best['plain'].p99_ms:.1f} ms, {len(without.content)} B"
    )
    print(
        f"status?locale=de-DE: {best['locale'].rps:,.0f} requests/s, "
        f"p99 {best['locale'].p99_ms:.1f} ms, {len(sample.content)} B"
    )
    print(f"ratio {ratio:.2f} × without locale (target ≥ {TARGET:.2f}); errors {errors}")
    print(json.dumps({"plain_rps": best["plain"].rps, "locale_rps": best["locale"].rps,
                      "ratio": ratio, "errors": errors, "database": args.database}))  # fmt: skip
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

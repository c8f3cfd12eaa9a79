"""The console's pages: the overview, a version, webhooks, keys (reads only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from tracker.console.auth import Ctx
from tracker.console.charts import Series, adoption_chart, legend, legend_swatch
from tracker.console.host import Host
from tracker.errors import InvalidInput, NotFound
from tracker.inputs import has_control
from tracker.notices.webhooks import list_deliveries, list_endpoints
from tracker.store import PolicyInfo, VersionInfo, counts
from tracker.store import dashboard as d
from tracker.store.keys import list_keys
from tracker.store.links import app_settings

MAX_PAGE = 1_000_000
CSV_CHUNK = 5000


def _shown(policy: PolicyInfo, today: date) -> list[tuple[str, VersionInfo]]:
    line = policy.timeline(today)
    shown = [("in force", policy.version(line.current))] if line.current else []
    return shown + [("upcoming", policy.version(n)) for n in line.upcoming]


def _figures(
    session: Session, policy: PolicyInfo, version: VersionInfo, now: datetime
) -> dict[str, Any]:
    """The API's version stats (``version_stats``) and notice stats of the version, read from
    the counts the database keeps as it writes (a few dozen rows, however many users)."""
    return {
        **d.version_figures(session, policy, version),
        "notices": counts.notice_figures(session, version.id),
        "deadline": policy.takes_effect(version),
        "as_of": now,
    }


def overview(ctx: Ctx) -> Response:
    h = ctx.host
    today, now = h.today(), h.now()
    with h.store.read() as session:
        snapshot = h.snapshot(session)
        policies = [
            (p, [(label, v, _figures(session, p, v, now)) for label, v in _shown(p, today)])
            for p in snapshot.policies
        ]
        chain = d.chain_state(session)
        deliveries = d.deliveries_since(session, now - timedelta(hours=24))
    age = now - chain.checkpoint_time if chain.checkpoint_time else None
    return ctx.page(
        "overview.html",
        nav="overview",
        policies=policies,
        chain=chain,
        checkpoint_age=_age(age),
        deliveries=deliveries,
    )


def _age(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


# ---------------------------------------------------------------------------
# A version


def _find(h: Host, session: Session, slug: str, number: int) -> tuple[PolicyInfo, VersionInfo]:
    policy = h.snapshot(session).policy(slug)
    if not 1 <= number <= len(policy.versions):
        raise NotFound(f"{policy.title} has no version {number}")
    return policy, policy.version(number)


def _number(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise NotFound(f"there is no version {value[:40]!r}")
    return int(value)


def search_term(value: str | None) -> str:
    term = (value or "").strip()
    if len(term) > d.SEARCH_MAX or has_control(term):
        raise InvalidInput(f"search: at most {d.SEARCH_MAX} characters, without control characters")
    return term


def page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    digits = value.lstrip("0") if value.isascii() and value.isdigit() else "x"
    if not digits.isdigit() or len(digits) > 9 or not 1 <= int(digits) <= MAX_PAGE:
        raise InvalidInput(f"page: must be a whole number from 1 to {MAX_PAGE:,}")
    return int(digits)


def cursor(name: str, value: str | None) -> str | None:
    """A user id to page from (``after`` / ``before``), taken as it is; any text a user id
    may be (at most 255 characters, no control character) seeks, whether or not it is one."""
    if value is None or value == "":
        return None
    if len(value) > d.CURSOR_MAX or has_control(value):
        raise InvalidInput(
            f"{name}: a user id of at most {d.CURSOR_MAX} characters, without control characters"
        )
    return value


@dataclass(frozen=True)
class Window:
    """A page of the users who must still accept, and where the pages beside it start."""

    users: list[d.Pending]
    page_no: int
    previous: str | None  # the query string of the previous page, None on the first
    next: str | None  # of the next page, None on the last


def window(
    session: Session,
    policy: PolicyInfo,
    version: VersionInfo,
    term: str,
    page_no: int,
    pages: int,
    seek: tuple[str | None, str | None],
) -> Window:
    """The page asked for: by a cursor (``after`` or ``before``, as the page's links give:
    one seek however deep) or by its number alone (an address typed in or kept: OFFSET).
    The number a cursor comes with is what the page says it is, checked against the ends."""
    after, before = seek
    if after is None and before is None:
        offset = (page_no - 1) * d.PAGE_SIZE
        users = d.must_accept(session, policy, version, search=term, offset=offset)
        more_before, more_after = page_no > 1, page_no < pages
    elif after is not None:
        found = d.must_accept(
            session, policy, version, search=term, after=after, limit=d.PAGE_SIZE + 1
        )
        users = found[: d.PAGE_SIZE]
        more_after = len(found) > d.PAGE_SIZE
        first = users[0].user_id if users else after
        more_before = _any(session, policy, version, d.Slice(term, before=first, limit=1))
    else:
        found = d.must_accept(
            session, policy, version, search=term, before=before, limit=d.PAGE_SIZE + 1
        )
        users = found[-d.PAGE_SIZE :]
        more_before = len(found) > d.PAGE_SIZE
        last = users[-1].user_id if users else before
        more_after = _any(session, policy, version, d.Slice(term, after=last, limit=1))
    if after is not None or before is not None:
        # Users accept while someone pages: a page may have moved since its link was made.
        if not more_before:
            page_no = 1
        elif not more_after:
            page_no = max(2, pages)
        else:
            page_no = min(max(2, page_no), max(2, pages - 1))
    if not users:
        return Window(users, page_no, None, None)
    return Window(
        users,
        page_no,
        _link(page_no - 1, term, "before", users[0].user_id) if more_before else None,
        _link(page_no + 1, term, "after", users[-1].user_id) if more_after else None,
    )


def _any(session: Session, policy: PolicyInfo, version: VersionInfo, part: d.Slice) -> bool:
    """Whether any user who must accept is in ``part``: one seek, one row."""
    return session.execute(d.must_accept_query(policy, version, part)).first() is not None


def _link(page_no: int, term: str, side: str, user_id: str) -> str:
    params = {"page": str(page_no), side: user_id}
    if term:
        params["q"] = term
    return urlencode(params)


def previous_major(policy: PolicyInfo, version: VersionInfo) -> VersionInfo | None:
    earlier = [v for v in policy.versions[: version.number - 1] if v.significance == "major"]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Curve:
    version: VersionInfo
    users_by_day: list[tuple[int, date, int, int]]  # (day n, date, that day, cumulative)


def _curve(session: Session, version: VersionInfo, today: date, days: int | None) -> Curve:
    start = version.published_at.date()
    by_day = dict(d.adoption(session, version.id))
    last = (today - start).days if days is None else days
    rows, total = [], 0
    for n in range(0, max(0, last) + 1):
        day = start + timedelta(days=n)
        total += by_day.get(day, 0) if day <= today else 0
        rows.append((n, day, by_day.get(day, 0), total))
    # Acceptances before publication (imported ones) count from day 0.
    early = sum(c for day, c in by_day.items() if day < start)
    return Curve(version, [(n, dt, c, t + early) for n, dt, c, t in rows])


def version_page(ctx: Ctx) -> Response:
    h, query = ctx.host, ctx.request.query_params
    number = _number(str(ctx.request.path_params["n"]))
    term = search_term(query.get("q"))
    page_no = page_number(query.get("page"))
    seek = cursor("after", query.get("after")), cursor("before", query.get("before"))
    if None not in seek:
        raise InvalidInput("after, before: give one of them, not both")
    today = h.today()
    with h.store.read() as session:
        policy, version = _find(h, session, str(ctx.request.path_params["slug"]), number)
        major = previous_major(policy, version)
        figures = _figures(session, policy, version, h.now())
        total = (
            d.must_accept_count(session, policy, version, term)
            if term
            else figures["needs_acceptance"]
        )
        pages = max(1, -(-total // d.PAGE_SIZE))
        if seek == (None, None) and page_no > pages:
            raise NotFound(f"page {page_no} is past the last page ({pages})")
        shown = (
            window(session, policy, version, term, page_no, pages, seek)
            if policy.acceptance_required
            else Window([], 1, None, None)
        )
        curve = _curve(session, version, today, None)
        days = len(curve.users_by_day) - 1
        before = _curve(session, major, today, days) if major else None
    base = f"/console/policies/{policy.slug}/versions/{version.number}"
    return ctx.page(
        "version.html",
        nav="",
        policy=policy,
        version=version,
        figures=figures,
        major=major,
        chart=_chart(policy, figures["users"], curve, before),
        rows=_table(figures["users"], curve, before),
        users=shown.users,
        total=total,
        term=term,
        page_no=shown.page_no,
        previous=shown.previous,
        next=shown.next,
        pages=pages,
        base=base,
        site_url=h.settings.site_url.rstrip("/"),
    )


def _share(count: int, users: int) -> float:
    return count / users if users else 0.0


def _chart(policy: PolicyInfo, users: int, curve: Curve, before: Curve | None) -> dict[str, Any]:
    series = [
        Series(
            f"Version {curve.version.number}",
            [(n, _share(t, users)) for n, _, _, t in curve.users_by_day],
        )
    ]
    if before is not None:
        series.append(
            Series(
                f"Version {before.version.number} (previous major)",
                [(n, _share(t, users)) for n, _, _, t in before.users_by_day],
            )
        )
    title = f"{policy.title}: share of users who accepted, by day since publication"
    return {
        "svg": adoption_chart(title, series),
        "legend": [(label, legend_swatch(c, dash, m)) for label, c, dash, m in legend(series)],
    }


def _table(users: int, curve: Curve, before: Curve | None) -> list[dict[str, Any]]:
    prior = {n: t for n, _, _, t in before.users_by_day} if before else {}
    return [
        {
            "n": n,
            "day": day,
            "new": new,
            "total": total,
            "share": _share(total, users),
            "before": _share(prior[n], users) if n in prior else None,
        }
        for n, day, new, total in curve.users_by_day
    ]


def must_accept_csv(ctx: Ctx) -> Response:
    h, query = ctx.host, ctx.request.query_params
    number = _number(str(ctx.request.path_params["n"]))
    term = search_term(query.get("q"))
    with h.store.read() as session:
        policy, version = _find(h, session, str(ctx.request.path_params["slug"]), number)

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["user_id", "last_decision", "accepted_version", "notice"])
        after = None
        with h.store.read() as session:
            while True:
                # A seek from the last user written: each chunk starts where the last ended
                # in the index, so the whole file reads each row once (OFFSET re-read every
                # row before the chunk: quadratic in the users).
                rows = d.must_accept(
                    session, policy, version, search=term, after=after, limit=CSV_CHUNK
                )
                for r in rows:
                    writer.writerow(
                        [r.user_id, r.last_kind or "", r.accepted_version or "", r.notice]
                    )
                yield out.getvalue()
                out.seek(0)
                out.truncate()
                if len(rows) < CSV_CHUNK:
                    return
                after = rows[-1].user_id

    name = f"{policy.slug.replace('/', '-')}-v{version.number}-must-accept.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------------------
# Webhooks and keys


def webhooks(ctx: Ctx) -> Response:
    h = ctx.host
    now = h.now()
    with h.store.read() as session:
        endpoints = list_endpoints(session, now)
        figures = d.endpoint_figures(session, now - timedelta(days=7))
        dead, more = list_deliveries(session, "dead", limit=100)
    return ctx.page(
        "webhooks.html",
        nav="webhooks",
        endpoints=endpoints,
        figures=figures,
        dead=dead,
        more_dead=more is not None,
    )


def keys(ctx: Ctx, created: tuple[str, Any] | None = None) -> Response:
    with ctx.host.store.read() as session:
        found = list_keys(session)
        apps = app_settings(session)
    return ctx.page("keys.html", nav="keys", keys=found, apps=apps, created=created)

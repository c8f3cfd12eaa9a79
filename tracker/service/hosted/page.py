"""``GET /accept/{token}`` shows what the user must accept; ``POST`` records the decisions.

With several policies the user accepts or declines each (one radio group per policy, one
submit button); with one, Accept and Decline buttons. The answers are recorded together, in
one transaction that also uses up the link, and only when all of these hold: the token's
signature is right, the form secret matches the cookie set with the page (double submit,
``SameSite=Strict``), the link is unused and unexpired, its key is not revoked, the policies,
versions and SHA-256 hashes in the form are exactly what the user must accept now, and every
one of them has an answer. A version published in between shows the page again with it
(409); a policy left without an answer shows the page again saying which (422). Either way
nothing is recorded and the link stays usable, so it records each policy at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from functools import partial
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tracker.errors import TrackerError
from tracker.languages import best_language
from tracker.service.hosted import tokens
from tracker.service.hosted.clientip import client_ip
from tracker.service.hosted.form import BULK, DECISIONS, PREFIX, Answers, Key, read_answers
from tracker.service.hosted.secret import link_secret
from tracker.service.hosted.view import Item, bodies, branding, pending, render, source_url
from tracker.service.http import read_body
from tracker.service.state import AppState
from tracker.store import siteurl
from tracker.store.events import NewEvent, record
from tracker.store.links import KeyApp, Link, consume, get_link, key_app
from tracker.store.models import Method

COOKIE = "pt_form"
FORM_LIMIT = 64 * 1024
OUTCOME_PARAM = "policy_tracker"
#: Repeated once per declined policy when the outcome is ``declined``.
DECLINED_PARAM = "policy_tracker_declined"


@dataclass(frozen=True)
class Gone:
    """Why a link cannot be used (what the user is told), and where to go back."""

    status: int
    heading: str
    message: str
    back_url: str | None = None
    app: KeyApp | None = None


INVALID = Gone(
    404,
    "This link is not valid",
    "The link may be mistyped or incomplete. Go back to the app you came from and try again.",
)


#: Why a link that was valid cannot be used any more (410): the heading and the message.
USED = (
    "This link has already been used",
    "Your answer was recorded when you first used it; nothing more was recorded now.",
)
EXPIRED = (
    "This link has expired",
    "Nothing was recorded. Go back to the app and it will send you a new link.",
)


def _gone(why: tuple[str, str], link: Link, app: KeyApp | None) -> Gone:
    return Gone(410, *why, link.return_url, app)


@dataclass(frozen=True)
class Again:
    """Show the page again and record nothing: the form no longer matches what the user must
    accept (409), or leaves policies without an answer (422). The answers given are kept."""

    status: int
    notice: str | None = None
    missing: frozenset[Key] = frozenset()
    chosen: Mapping[Key, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Done:
    outcome: str
    return_url: str
    declined: tuple[str, ...] = ()


def _headers(link_url_origin: str | None = None) -> dict[str, str]:
    form_action = "'self'" + (f" {link_url_origin}" if link_url_origin else "")
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Chrome applies form-action to the redirect after the post: allow the app's origin.
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _context(app: KeyApp | None, link: Link | None) -> dict[str, Any]:
    return {
        "app_name": app.display_name if app else "policy-tracker",
        "colors": branding(app),
        "lang": (link.locale if link and link.locale else "en").replace("_", "-"),
    }


def _language(items: Sequence[Item], link: Link) -> str:
    """The page's ``lang``: the language of the texts it shows when they share one (a
    translation's, or the source's own), else the link's locale."""
    languages = {item.language for item in items}
    return languages.pop() if len(languages) == 1 else str(_context(None, link)["lang"])


def _gone_page(gone: Gone, link: Link | None = None) -> Response:
    back = "Back to " + (gone.app.display_name if gone.app else "the app")
    html = render(
        "message.html",
        heading=gone.heading,
        message=gone.message,
        kind="error" if gone.status == 404 else "warning",
        back_url=gone.back_url,
        back_label=back,
        **_context(gone.app, link),
    )
    return HTMLResponse(html, status_code=gone.status, headers=_headers())


def _link_state(
    session: Session, state: AppState, link_id: str, *, lock: bool = False
) -> tuple[Link, KeyApp] | Gone:
    # The lock serialises two posts of one link on PostgreSQL (SQLite serialises writers).
    link = get_link(session, link_id, lock=lock)
    if link is None:
        return INVALID
    app = key_app(session, link.api_key_id)
    if app is None or app.revoked:
        return INVALID
    if link.used_at is not None:
        return _gone(USED, link, app)
    if link.expired(state.now()):
        return _gone(EXPIRED, link, app)
    return link, app


def _page(
    request: Request,
    state: AppState,
    secret: str,
    link_id: str,
    *,
    status: int = 200,
    notice: str | None = None,
    missing: frozenset[Key] = frozenset(),
    chosen: Mapping[Key, str] | None = None,
) -> Response:
    with state.store.read() as session:
        found = _link_state(session, state, link_id)
        if isinstance(found, Gone):
            return _gone_page(found)
        link, app = found
        snapshot = state.snapshots.get(session)
        language = request.headers.get("accept-language")
        items = pending(session, snapshot, link, state.today(), language)
        html_bodies = bodies(session, snapshot, items)
        site = siteurl.resolve(state.settings, session).site_url
    source_urls = {i.policy.slug: source_url(site, i.policy.slug, i.version.number) for i in items}
    form_secret = tokens.form_secret(secret, link_id)
    context = {**_context(app, link), "lang": _language(items, link)}
    html = render(
        "accept.html",
        items=items,
        bodies=html_bodies,
        source_urls=source_urls,
        any_changed=any(i.accepted is not None for i in items),
        notice=notice,
        error=status >= 400,
        # Not action="": that keeps a #fragment (the skip link's), which the redirect then
        # carries to the app.
        action=request.url.path,
        missing=missing,
        chosen=chosen or {},
        bulk_field=BULK,
        field_prefix=PREFIX,
        form_secret=form_secret,
        expires_at=link.expires_at.astimezone(UTC).strftime("%H:%M on %d %B %Y"),
        back_url=link.return_url,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=_headers(_origin(link.return_url)))
    response.set_cookie(
        COOKIE,
        form_secret,
        max_age=max(60, int((link.expires_at - state.now()).total_seconds()) + 60),
        path=request.url.path,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


def _stale_notice(items: Sequence[Item], submitted: Sequence[Key]) -> str:
    shown = {slug: number for slug, number, _ in submitted}
    for item in items:
        old = shown.get(item.policy.slug)
        if old is not None and old != item.version.number:
            return (
                f"{item.policy.title} changed while you were reading: version "
                f"{item.version.number} replaces version {old}. Nothing was recorded; "
                "please review the new version below."
            )
    return (
        "What you need to accept changed while you were reading. Nothing was recorded; "
        "please review the page again."
    )


TEXT_CHANGED = (
    "The text shown in your language changed while you were reading. Nothing was recorded; "
    "please review the page again."
)


def _locale(link: Link, item: Item) -> str | None:
    """The locale an event records: the link's, unless the text shown is in a language it
    does not name (chosen from the browser's Accept-Language): then that text's."""
    if item.shown is None:
        return link.locale
    if link.locale and best_language([item.shown.language], link.locale) is not None:
        return link.locale
    return item.shown.language


def _with_outcome(url: str, outcome: str, declined: Sequence[str]) -> str:
    parts = urlsplit(url)
    ours = (OUTCOME_PARAM, DECLINED_PARAM)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    query.append((OUTCOME_PARAM, outcome))
    query.extend((DECLINED_PARAM, slug) for slug in declined)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _decide(
    state: AppState,
    link_id: str,
    answers: Answers,
    ip: str | None,
    user_agent: str | None,
    accept_language: str | None = None,
) -> Gone | Again | Done:
    now = state.now()

    def work(session: Session) -> Gone | Again | Done:
        found = _link_state(session, state, link_id, lock=True)
        if isinstance(found, Gone):
            return found
        link, app = found
        snapshot = state.snapshots.get(session)
        items = pending(session, snapshot, link, state.today(), accept_language)
        if [i.key for i in items] != answers.shown:
            return Again(409, _stale_notice(items, answers.shown), chosen=answers.chosen())
        if [i.text_sha256 for i in items] != answers.shown_texts():
            # A text in the reader's language published (or their language changed) since the
            # page was shown: the event must name the text they read.
            return Again(409, TEXT_CHANGED, chosen=answers.chosen())
        missing = answers.missing()
        if missing:
            return Again(422, missing=frozenset(missing), chosen=answers.chosen())
        kinds = {i.policy.slug: DECISIONS[answers.decisions[i.policy.slug]] for i in items}
        declined = tuple(slug for slug, kind in kinds.items() if kind == "declined")
        outcome = "declined" if declined else "accepted"
        # Uses the link up in the transaction that records: no policy is ever recorded twice.
        if not consume(session, link_id, outcome, now):
            return _gone(USED, link, app)
        for item in items:
            kind = kinds[item.policy.slug]
            event = NewEvent(
                user_id=link.user_id,
                kind=kind,
                method=Method.CLICKWRAP.value,
                api_key_id=link.api_key_id,
                ip=ip,
                user_agent=user_agent,
                locale=_locale(link, item),
                context={"acceptance_link": link_id[:12]},
                shown=item.shown,
            )
            record(session, snapshot, item.policy, item.version, event, now)
        return Done(outcome, link.return_url, declined)

    return state.store.write(work)


async def accept_page(request: Request) -> Response:
    """The hosted page: no key needed, the signed token is the credential."""
    state: AppState = request.app.state.tracker
    token = str(request.path_params["token"])
    secret = await run_in_threadpool(link_secret, request, state)
    link_id = tokens.verify(secret, token)
    if link_id is None:
        return _gone_page(INVALID)

    async def page(**options: Any) -> Response:
        return await run_in_threadpool(partial(_page, request, state, secret, link_id, **options))

    if request.method != "POST":
        return await page()

    try:
        raw = await read_body(request, min(FORM_LIMIT, state.settings.max_body_bytes))
    except TrackerError:
        return _gone_page(Gone(413, "The form is too large", "Nothing was recorded."))
    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    expected = tokens.form_secret(secret, link_id)
    sent = form.get("form_secret", [None])[0]
    if not tokens.same(request.cookies.get(COOKIE), expected) or not tokens.same(sent, expected):
        # A post from another site, or from a browser that never loaded the page.
        return await page(
            status=403,
            notice="We could not confirm that this answer came from this page. Nothing was "
            "recorded; please answer again below.",
        )
    answers = read_answers(form)
    if answers is None:
        return _gone_page(
            Gone(400, "The form could not be read", "Nothing was recorded. Reload the page.")
        )
    keep = state.settings.store_ip
    ip = client_ip(request) if keep else None
    agent = request.headers.get("user-agent") if keep else None
    language = request.headers.get("accept-language")
    result = await run_in_threadpool(
        _decide, state, link_id, answers, ip, agent[:1024] if agent else None, language
    )
    if isinstance(result, Gone):
        return _gone_page(result)
    if isinstance(result, Again):
        return await page(
            status=result.status,
            notice=result.notice,
            missing=result.missing,
            chosen=result.chosen,
        )
    url = _with_outcome(result.return_url, result.outcome, result.declined)
    response = RedirectResponse(url, 303)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    response.delete_cookie(COOKIE, path=request.url.path)
    return response

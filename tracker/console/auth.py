"""Signing in to the console and guarding its pages.

``policy-tracker console-link`` prints a single-use link; its page asks to sign in (a POST,
so that a link preview or a mail scanner that follows the link does not use it up), and the
POST opens a session: a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie (and
``Secure`` over https). Every form carries a token derived from the session's (a cross-site
page cannot read it), every POST is refused from another site (``Sec-Fetch-Site``), and every
change is chained in the audit log with who made it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tracker.chain.canonical import rfc3339
from tracker.console.host import Host, host
from tracker.console.render import message, page
from tracker.errors import TrackerError
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.chain import chain_record
from tracker.store.console import (
    ConsoleSession,
    create_link,
    end_session,
    find_session,
    link_state,
    sign_in,
    touch,
)

COOKIE = "pt_console"
PATH = "/console"
FORM_LIMIT = 64 * 1024

_REFUSED = {
    "invalid": (
        404,
        "This sign-in link is not valid",
        "The link may be mistyped or incomplete. Ask an administrator for a new one "
        "(policy-tracker console-link).",
    ),
    "used": (
        410,
        "This sign-in link has already been used",
        "A sign-in link works once. Ask an administrator for a new one "
        "(policy-tracker console-link).",
    ),
    "expired": (
        410,
        "This sign-in link has expired",
        "Nothing was changed. Ask an administrator for a new one (policy-tracker console-link).",
    ),
}


def csrf_token(session_token: str) -> str:
    mac = hmac.new(session_token.encode(), b"console-form", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def audit(session: Session, action: str, who: str, now: datetime, **data: Any) -> int:
    """Chain a console action with who took it; the sequence number it got."""
    entry = {"action": f"console.{action}", **data, "by": who, "at": rfc3339(now)}
    return chain_record(session, "audit", entry, now).seq


def _cross_site(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    return site is not None and site not in ("same-origin", "none")


async def read_form(request: Request) -> dict[str, str] | None:
    """The posted form's fields (the first value of each), or None when too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return None
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


# ---------------------------------------------------------------------------
# Signing in and out


def new_link(
    store: Store, settings: Settings, role: str, name: str, now: datetime, base_url: str = ""
) -> str:
    """A single-use sign-in link for ``name`` as ``role``, valid for
    ``console_link_seconds``; its making is chained in the audit log."""
    ttl = timedelta(seconds=settings.console_link_seconds)

    def work(session: Session) -> str:
        token = create_link(session, role, name, now, ttl)
        audit(session, "link_created", "the command line", now, role=role, name=name.strip())
        return token

    token = store.write(work)
    base = (base_url or settings.public_url or settings.site_url).rstrip("/")
    return f"{base}{PATH}/sign-in/{token}"


async def sign_in_page(request: Request) -> Response:
    h = host(request)
    token = str(request.path_params["token"])
    if request.method == "POST":
        if _cross_site(request):
            return message(request, 403, "Sign-in refused", "Sign in from the link itself.")
        return await run_in_threadpool(_sign_in, request, h, token)

    def state() -> str:
        with h.store.read() as session:
            return link_state(session, token, h.now())

    found = await run_in_threadpool(state)
    if found != "usable":
        return message(request, *_REFUSED[found])
    return page(request, "sign_in.html")


def _sign_in(request: Request, h: Host, token: str) -> Response:
    now = h.now()
    absolute = timedelta(seconds=h.settings.console_session_seconds)

    def work(session: Session) -> tuple[str, ConsoleSession] | str:
        opened = sign_in(session, token, now, absolute)
        if not isinstance(opened, str):
            audit(session, "sign_in", opened[1].who, now)
        return opened

    opened = h.store.write(work)
    if isinstance(opened, str):
        return message(request, *_REFUSED[opened])
    response = RedirectResponse(f"{PATH}/", 303)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    response.set_cookie(
        COOKIE,
        opened[0],
        max_age=h.settings.console_session_seconds,
        path=PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


# ---------------------------------------------------------------------------
# Guarding pages and actions


@dataclass(frozen=True)
class Ctx:
    """A signed-in request: who, the form token, the query and (for a POST) the form."""

    request: Request
    host: Host
    who: ConsoleSession
    csrf: str
    form: Mapping[str, str] = field(default_factory=dict)

    def page(self, template: str, *, status: int = 200, **context: Any) -> Response:
        return page(self.request, template, status=status, who=self.who, csrf=self.csrf, **context)

    def message(self, status: int, heading: str, text: str, **kw: Any) -> Response:
        return message(self.request, status, heading, text, who=self.who, csrf=self.csrf, **kw)


Handler = Callable[[Ctx], Response]

SIGNED_OUT = (
    401,
    "Please sign in",
    "You are not signed in, or your session has ended. Ask an administrator for a sign-in "
    "link (policy-tracker console-link).",
)


def _session(h: Host, token: str | None) -> ConsoleSession | None:
    now = h.now()
    idle = timedelta(seconds=h.settings.console_idle_seconds)
    with h.store.read() as session:
        found = find_session(session, token, now, idle)
    if found is None:
        return None
    if found[1]:
        h.store.write(lambda s: touch(s, found[0].id, now))
    return found[0]


def guarded(handler: Handler, *, post: bool = False, admin: bool = False) -> Any:
    """A console endpoint: signed in; for a POST, from this site with the form's token;
    for an admin action, an admin. Anything refused changes nothing."""

    async def endpoint(request: Request) -> Response:
        h = host(request)
        token = request.cookies.get(COOKIE)
        who = await run_in_threadpool(_session, h, token)
        if who is None or token is None:
            return message(request, *SIGNED_OUT)
        csrf = csrf_token(token)
        form: dict[str, str] = {}
        if post:
            read = await read_form(request)
            if read is None:
                return message(request, 413, "The form is too large", "Nothing was changed.")
            form = read
            if _cross_site(request) or not hmac.compare_digest(
                form.get("csrf", "").encode(), csrf.encode()
            ):
                return message(
                    request,
                    403,
                    "This form could not be confirmed",
                    "Nothing was changed. Go back, reload the page and try again.",
                    who=who,
                    csrf=csrf,
                )
        if admin and not who.admin:
            return message(
                request,
                403,
                "Only an admin can do this",
                "You are signed in as a viewer; nothing was changed.",
                who=who,
                csrf=csrf,
            )
        ctx = Ctx(request, h, who, csrf, form)
        try:
            return await run_in_threadpool(handler, ctx)
        except TrackerError as exc:
            title = "Not found" if exc.status == 404 else "That did not work"
            return ctx.message(exc.status, title, exc.message)

    return endpoint


def sign_out(ctx: Ctx) -> Response:
    now = ctx.host.now()

    def work(session: Session) -> None:
        if end_session(session, ctx.who.id, now):
            audit(session, "sign_out", ctx.who.who, now)

    ctx.host.store.write(work)
    response = message(ctx.request, 200, "Signed out", "Your console session has ended.")
    response.delete_cookie(COOKIE, path=PATH)
    return response

"""A small Starlette app that requires its users to accept the current policies.

Run it beside a tracker (``policy-tracker demo`` prints a key):

    TRACKER_URL=http://127.0.0.1:8000 TRACKER_KEY=ptk_… \
        uvicorn --factory examples.app:from_env --port 8001

then open http://127.0.0.1:8001/login?user=alice. The user id is a cookie, to keep the
example short; a real app reads it from its session.

Until the tracker serves its hosted acceptance page, the app shows its own at ``/accept``
(``acceptance_url=``); with the hosted page, drop that argument and the ``/accept`` routes.
"""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tracker.client import AsyncTrackerClient
from tracker.middleware import RequireAcceptance, Scope


def current_user(scope: Scope) -> str | None:
    return Request(scope).cookies.get("user")


def create_app(
    tracker_url: str,
    api_key: str,
    *,
    policies: Sequence[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    tracker = AsyncTrackerClient(tracker_url, api_key, transport=transport)

    async def own_acceptance_page(user_id: str, slugs: tuple[str, ...], return_url: str) -> str:
        return "/accept?" + urlencode({"policy": slugs, "next": return_url}, doseq=True)

    async def home(request: Request) -> Response:
        user = html.escape(request.cookies.get("user", "stranger"))
        return HTMLResponse(f"<h1>Welcome, {user}</h1>")

    async def me(request: Request) -> Response:
        return JSONResponse({"user": request.cookies.get("user")})

    async def login(request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.set_cookie("user", request.query_params["user"], httponly=True)
        return response

    async def accept_page(request: Request) -> Response:
        user = request.cookies["user"]
        status = await tracker.status(user)
        wanted = set(request.query_params.getlist("policy"))
        rows = "".join(
            f"<li>{html.escape(p.title)}, version {p.current_version}"
            f'<input type="hidden" name="policy" value="{html.escape(p.policy)}">'
            f'<input type="hidden" name="version" value="{p.current_version}"></li>'
            for p in status.pending
            if not wanted or p.policy in wanted
        )
        nxt = html.escape(request.query_params.get("next", "/"))
        return HTMLResponse(
            f'<form method="post"><p>Please review and accept:</p><ul>{rows}</ul>'
            f'<input type="hidden" name="next" value="{nxt}">'
            "<button>Accept</button></form>"
        )

    async def accept(request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        user = request.cookies["user"]
        for slug, version in zip(form.get("policy", []), form.get("version", []), strict=True):
            # Recording through the client also clears the middleware's cache for the user.
            await tracker.accept(
                user,
                slug,
                int(version),
                method="clickwrap",
                ip=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"),
            )
        return RedirectResponse(_local(form.get("next", ["/"])[0]), status_code=303)

    async def withdraw(request: Request) -> Response:
        result = await tracker.withdraw(request.cookies["user"], request.path_params["policy"])
        return JSONResponse({"state": result.status.state})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with tracker:
            yield

    return Starlette(
        routes=[
            Route("/", home),
            Route("/api/me", me),
            Route("/login", login),
            Route("/accept", accept_page, methods=["GET"]),
            Route("/accept", accept, methods=["POST"]),
            Route("/api/withdraw/{policy:path}", withdraw, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                RequireAcceptance,
                client=tracker,
                user_id=current_user,
                policies=policies,
                exempt=["/login", "/accept", "/api/withdraw"],
                acceptance_url=own_acceptance_page,
            )
        ],
        lifespan=lifespan,
    )


def _local(url: str) -> str:
    """Only follow ``next`` within this site (no open redirect): keep its path and query."""
    parts = urlsplit(url)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return urlunsplit(("", "", path, parts.query, ""))


def from_env() -> Starlette:
    return create_app(os.environ["TRACKER_URL"], os.environ["TRACKER_KEY"])

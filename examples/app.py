"""A small Starlette app that requires its users to accept the current policies.

Run it beside a tracker (``policy-tracker demo`` prints a key):

    TRACKER_URL=http://127.0.0.1:8000 TRACKER_KEY=ptk_… \
        uvicorn --factory examples.app:from_env --port 8001

then open http://127.0.0.1:8001/login?user=alice. The user id is a cookie, to keep the
example short; a real app reads it from its session.

With ``WEBHOOK_SECRET=whsec_…`` (printed by ``policy-tracker webhooks add
http://127.0.0.1:8001/hooks/policy-tracker``) it receives the tracker's webhooks at
``POST /hooks/policy-tracker``, verifies each with the ``standardwebhooks`` package, prints
``webhook verified: <type> <id>`` and lists them at ``GET /hooks/policy-tracker``.

A user who must accept goes to the tracker's hosted acceptance page and comes back to
``/policy-return``, which sends them on to the page they wanted when they accepted, and
explains when they declined. The key needs that URL on its allow-list:
``policy-tracker keys create --name example --scopes read,write --return-url
http://127.0.0.1/`` (a loopback URL without a port allows any port).
"""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tracker.client import AsyncTrackerClient
from tracker.client.middleware import RequireAcceptance, Scope


def current_user(scope: Scope) -> str | None:
    return Request(scope).cookies.get("user")


def create_app(
    tracker_url: str,
    api_key: str,
    *,
    policies: Sequence[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    webhook_secret: str | None = None,
) -> Starlette:
    tracker = AsyncTrackerClient(tracker_url, api_key, transport=transport)
    guards: list[RequireAcceptance] = []
    received: list[dict[str, Any]] = []  # verified webhooks, newest last (GET /hooks shows them)

    def guard(app: ASGIApp) -> ASGIApp:
        middleware = RequireAcceptance(
            app,
            client=tracker,
            user_id=current_user,
            policies=policies,
            exempt=["/login", "/policy-return", "/api/withdraw", "/hooks"],
            acceptance_url=hosted_page,
        )
        guards.append(middleware)
        return middleware

    async def webhook(request: Request) -> Response:
        """Standard Webhooks, checked with the receiver's side of the spec."""
        if webhook_secret is None:
            return Response(status_code=404)
        from standardwebhooks import Webhook, WebhookVerificationError

        try:
            event = Webhook(webhook_secret).verify(await request.body(), dict(request.headers))
        except WebhookVerificationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        received.append({"id": request.headers["webhook-id"], **event})
        print(f"webhook verified: {event['type']} {request.headers['webhook-id']}", flush=True)
        if event["type"] in ("policy.version_published", "acceptance.recorded"):
            for g in guards:
                g.forget()  # the next request asks the tracker again
        return Response(status_code=204)

    async def webhooks_seen(request: Request) -> Response:
        return JSONResponse(received)

    async def hosted_page(user_id: str, slugs: tuple[str, ...], return_url: str) -> str:
        """A link to the tracker's page, coming back through ``/policy-return``."""
        parts = urlsplit(return_url)
        back = f"{parts.scheme}://{parts.netloc}/policy-return?" + urlencode({"next": return_url})
        link = await tracker.acceptance_link(user_id, back, policies=slugs)
        return link.url

    async def policy_return(request: Request) -> Response:
        nxt = _local(request.query_params.get("next", "/"))
        if request.query_params.get("policy_tracker") != "declined":
            return RedirectResponse(nxt, status_code=303)
        return HTMLResponse(
            "<h1>You declined our updated policies</h1>"
            "<p>You can keep your account, but you cannot use the app until you accept.</p>"
            f'<p><a href="{html.escape(nxt)}">Review them again</a></p>'
        )

    async def home(request: Request) -> Response:
        user = html.escape(request.cookies.get("user", "stranger"))
        return HTMLResponse(f"<h1>Welcome, {user}</h1>")

    async def me(request: Request) -> Response:
        return JSONResponse({"user": request.cookies.get("user")})

    async def login(request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.set_cookie("user", request.query_params["user"], httponly=True)
        return response

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
            Route("/policy-return", policy_return),
            Route("/api/withdraw/{policy:path}", withdraw, methods=["POST"]),
            Route("/hooks/policy-tracker", webhook, methods=["POST"]),
            Route("/hooks/policy-tracker", webhooks_seen, methods=["GET"]),
        ],
        middleware=[Middleware(guard)],
        lifespan=lifespan,
    )


def _local(url: str) -> str:
    """Only follow ``next`` within this site (no open redirect): keep its path and query."""
    parts = urlsplit(url)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return urlunsplit(("", "", path, parts.query, ""))


def from_env() -> Starlette:
    return create_app(
        os.environ["TRACKER_URL"],
        os.environ["TRACKER_KEY"],
        webhook_secret=os.environ.get("WEBHOOK_SECRET"),
    )

"""The web app as data: routes (with the scope each needs), middleware, exception handlers."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.console import ROUTES as CONSOLE_ROUTES
from tracker.service.api import admin, audit, events, notices, policies, status, webhooks
from tracker.service.fast import unavailable
from tracker.service.hosted import PAGE_ROUTES
from tracker.service.hosted import api as links
from tracker.service.http import api
from tracker.service.openapi import openapi_document
from tracker.service.sitepages import Site

P = "/v1/policies/{slug:path}"
U = "/v1/users/{user_id:path}"


async def healthz(request: Request) -> Response:
    """Health, without a key: 200 when the database answers a query, else a 503."""
    if not await request.app.state.tracker.database_answers():
        return unavailable("the database is not answering")
    return JSONResponse({"status": "ok"})


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


# More specific paths come first: ``{slug:path}`` would otherwise swallow ``/versions/…``.
API_ROUTES: list[BaseRoute] = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/v1/policies", api(policies.list_policies, "read", quick=True), methods=["GET"]),
    Route(P + "/versions/{n:int}/stats", api(policies.get_stats, "read"), methods=["GET"]),
    Route(P + "/versions/{n:int}/notices/stats", api(notices.stats, "read"), methods=["GET"]),
    Route(P + "/versions/{n:int}", api(policies.get_version, "read"), methods=["GET"]),
    Route(P + "/versions", api(policies.list_versions, "read"), methods=["GET"]),
    Route(P + "/changes/{a:int}-{b:int}", api(policies.get_changes, "read"), methods=["GET"]),
    Route(P, api(policies.get_policy, "read", quick=True), methods=["GET"]),
    Route("/v1/acceptances", api(events.accept, "write", body=True), methods=["POST"]),
    Route("/v1/declines", api(events.decline, "write", body=True), methods=["POST"]),
    Route("/v1/withdrawals", api(events.withdraw, "write", body=True), methods=["POST"]),
    Route("/v1/acceptance-links", api(links.create, "write", body=True), methods=["POST"]),
    Route(U + "/status", api(status.user_status, "read", quick=True), methods=["GET"]),
    Route(U + "/events", api(status.events, "read"), methods=["GET"]),
    Route(U + "/notices", api(notices.list_notices, "read"), methods=["GET"]),
    Route("/v1/notices/{notice_id:int}/ack", api(notices.ack, "write"), methods=["POST"]),
    Route(
        "/v1/status/batch",
        api(status.batch_status, "read", body=True, reads_only=True),
        methods=["POST"],
    ),
    Route("/v1/admin/versions", api(admin.publish_versions, "admin", body=True), methods=["POST"]),
    Route("/v1/admin/keys", api(admin.keys_list, "admin"), methods=["GET"]),
    Route("/v1/admin/keys", api(admin.keys_create, "admin", body=True), methods=["POST"]),
    Route("/v1/admin/keys/{key_id}", api(admin.keys_revoke, "admin"), methods=["DELETE"]),
    Route(
        "/v1/admin/keys/{key_id}/app",
        api(admin.keys_set_app, "admin", body=True),
        methods=["PUT"],
    ),
    Route("/v1/admin/webhooks", api(webhooks.webhooks_list, "admin"), methods=["GET"]),
    Route(
        "/v1/admin/webhooks",
        api(webhooks.webhooks_create, "admin", body=True),
        methods=["POST"],
    ),
    Route(
        "/v1/admin/webhooks/{webhook_id}",
        api(webhooks.webhooks_delete, "admin"),
        methods=["DELETE"],
    ),
    Route(
        "/v1/admin/webhooks/{webhook_id}/rotate",
        api(webhooks.webhooks_rotate, "admin"),
        methods=["POST"],
    ),
    Route("/v1/admin/deliveries", api(webhooks.deliveries_list, "admin"), methods=["GET"]),
    Route(
        "/v1/admin/deliveries/{delivery_id:int}/replay",
        api(webhooks.deliveries_replay, "admin"),
        methods=["POST"],
    ),
    Route("/v1/admin/audit/verify", api(audit.audit_verify, "admin"), methods=["GET"]),
    Route("/v1/admin/export", audit.export, methods=["GET"]),
    Route("/v1/admin/users/{user_id:path}", api(audit.erase_user, "admin"), methods=["DELETE"]),
    Route("/v1/admin/reacceptance", api(audit.reacceptance, "admin", body=True), methods=["POST"]),
]


def routes(site: Path | None) -> list[BaseRoute]:
    """The API, the hosted acceptance page, the console, then the site at ``/``: the built
    one when there is one, and the policy pages the tracker's links name
    (``tracker.service.sitepages``)."""
    return [
        *API_ROUTES,
        *PAGE_ROUTES,
        *CONSOLE_ROUTES,
        Mount("/", app=_ApiMisses(Site(site)), name="site"),
    ]


class _ApiMisses:
    """In front of the site: a path a route answers for another method is a 405 problem,
    and a path under ``/v1`` no route answers the API's 404 problem (the site at ``/``
    would otherwise take both and answer a page's plain 404)."""

    def __init__(self, site: ASGIApp):
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if any(
                route.matches(scope)[0] != Match.NONE
                for route in (*API_ROUTES, *PAGE_ROUTES, *CONSOLE_ROUTES)
            ):
                raise HTTPException(405)
            path = scope.get("path", "")
            if path == "/v1" or path.startswith("/v1/"):
                raise HTTPException(404)
        await self.site(scope, receive, send)


# No compression here: a 10,000-user batch answer takes longer to gzip in Python than to
# compute; put the service behind a proxy that compresses if the network needs it.
MIDDLEWARE: list[Middleware] = []

__all__ = ["MIDDLEWARE", "routes"]

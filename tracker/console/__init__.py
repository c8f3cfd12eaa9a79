"""The console at ``/console/``: pages for the legal team (who accepted which version, who
must still accept, notices, webhooks, keys, the audit chain), server-rendered, no script.

Sign-in links come from ``policy-tracker console-link``; viewers see, admins act. The
service mounts ``ROUTES`` before the site.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from tracker.console import actions, pages
from tracker.console.auth import guarded, new_link, sign_in_page, sign_out
from tracker.console.render import css

C = "/console"
V = C + "/policies/{slug:path}/versions/{n}"

ROUTES: list[BaseRoute] = [
    Route(C + "/console.css", css, methods=["GET"]),
    Route(C + "/sign-in/{token}", sign_in_page, methods=["GET", "POST"]),
    Route(C + "/sign-out", guarded(sign_out, post=True), methods=["POST"]),
    Route(C + "/", guarded(pages.overview), methods=["GET"]),
    Route(V + "/must-accept.csv", guarded(pages.must_accept_csv), methods=["GET"]),
    Route(
        V + "/reacceptance",
        guarded(actions.reacceptance, post=True, admin=True),
        methods=["POST"],
    ),
    Route(V, guarded(pages.version_page), methods=["GET"]),
    Route(C + "/webhooks", guarded(pages.webhooks), methods=["GET"]),
    Route(
        C + "/webhooks/deliveries/{delivery_id}/replay",
        guarded(actions.replay, post=True, admin=True),
        methods=["POST"],
    ),
    Route(C + "/keys", guarded(pages.keys), methods=["GET"]),
    Route(C + "/keys", guarded(actions.key_create, post=True, admin=True), methods=["POST"]),
    Route(
        C + "/keys/{key_id}/revoke",
        guarded(actions.key_revoke, post=True, admin=True),
        methods=["POST"],
    ),
]

__all__ = ["ROUTES", "new_link"]

"""The secret that signs acceptance links: ``POLICY_TRACKER_LINK_SECRET``, or one the tracker
generates once and keeps in the database so that every process shares it."""

from __future__ import annotations

from starlette.requests import Request

from tracker.service.state import AppState
from tracker.store.links import service_secret

NAME = "acceptance_links"


def link_secret(request: Request, state: AppState) -> str:
    if state.settings.link_secret:
        return state.settings.link_secret
    cached: str | None = getattr(request.app.state, "link_secret", None)
    if cached is None:
        now = state.now()
        cached = state.store.write(lambda session: service_secret(session, NAME, now))
        request.app.state.link_secret = cached
    return cached

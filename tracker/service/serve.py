"""Running the service with uvicorn (one or more workers)."""

from __future__ import annotations

import os
from dataclasses import fields, replace
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tracker.service.app import create_app
from tracker.service.hosted.clientip import parse_proxies
from tracker.service.logs import log_config
from tracker.settings import ENV_PREFIX, Settings
from tracker.store import siteurl


def app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings come from ``POLICY_TRACKER_*``."""
    return create_app(Settings.from_env())


def uvicorn_options(settings: Settings, log_format: str) -> dict[str, Any]:
    """What every worker runs with. uvicorn's own proxy handling is off: its default trusts
    ``X-Forwarded-For`` from 127.0.0.1, and the app applies ``trusted_proxies`` itself."""
    parse_proxies(settings.trusted_proxies)  # a bad value stops here, before serving
    return {
        "log_config": log_config(log_format, redact=settings.access_log_redact),
        "proxy_headers": False,
    }


def served(settings: Settings, host: str, port: int) -> Settings:
    """The settings with the public site URL this server makes true: the links the tracker
    hands out (notices, webhooks, exports, evidence) name the host and port it listens on,
    unless ``POLICY_TRACKER_SITE_URL`` says where the site is, or ``POLICY_TRACKER_PUBLIC_URL``
    where this server is reached (the site is served at its ``/``)."""
    if siteurl.configured(settings):
        return settings
    if settings.public_url:
        return replace(settings, site_url=settings.public_url.rstrip("/") + "/")
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return replace(settings, site_url=f"http://{shown}:{port}/")


def announce(settings: Settings) -> None:
    """Record the site URL this server makes true, for the other processes (``dispatch``,
    ``export``, ``evidence``) that share its database."""
    if not os.environ.get(ENV_PREFIX + "SITE_URL"):
        from datetime import UTC, datetime

        from tracker.store import Store

        store = Store.open(settings)
        try:
            store.write(lambda s: siteurl.record(s, settings.site_url, datetime.now(UTC)))
        finally:
            store.dispose()


#: Longest a worker process may take to start or to answer its supervisor before it is
#: replaced (``--workers N``).
WORKER_START_SECONDS = 30


def run(settings: Settings, *, host: str, port: int, workers: int, log_format: str) -> None:
    settings = served(settings, host, port)
    announce(settings)
    options = uvicorn_options(settings, log_format)
    if workers > 1:
        # Worker processes rebuild the app from the environment.
        for f in fields(settings):
            os.environ[ENV_PREFIX + f.name.upper()] = str(getattr(settings, f.name))
        uvicorn.run(
            "tracker.service.serve:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # A worker answers the supervisor's pings only once it has imported the app: on
            # a busy host that takes longer than uvicorn's 5 s, and workers killed for it
            # were restarted forever (serve --workers 4 never answered under load).
            timeout_worker_healthcheck=WORKER_START_SECONDS,
            **options,
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, **options)

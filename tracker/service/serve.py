"""Running the service with uvicorn (one or more workers)."""

from __future__ import annotations

import os
from dataclasses import fields
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tracker.service.app import create_app
from tracker.service.hosted.clientip import parse_proxies
from tracker.service.logs import log_config
from tracker.settings import ENV_PREFIX, Settings


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


def run(settings: Settings, *, host: str, port: int, workers: int, log_format: str) -> None:
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
            **options,
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, **options)

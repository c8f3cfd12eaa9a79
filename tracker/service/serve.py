"""Running the service with uvicorn (one or more workers)."""

from __future__ import annotations

import os
from dataclasses import fields

import uvicorn
from starlette.applications import Starlette

from tracker.service.app import create_app
from tracker.service.logs import log_config
from tracker.settings import ENV_PREFIX, Settings


def app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings come from ``POLICY_TRACKER_*``."""
    return create_app(Settings.from_env())


def run(settings: Settings, *, host: str, port: int, workers: int, log_format: str) -> None:
    config = log_config(log_format)
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
            log_config=config,
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=config)

"""The tracker's HTTP service (Starlette). Only the CLI imports this package."""

from tracker.service.app import create_app

__all__ = ["create_app"]

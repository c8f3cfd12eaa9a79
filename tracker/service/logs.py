"""Structured logs: one JSON object a line (``--log-format json``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            entry.update(client=client, method=method, path=path, http=version, status=status)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(fmt: str, level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and the tracker."""
    formatter: dict[str, Any] = (
        {"()": "tracker.service.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stderr",
    }
    loggers = {
        name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "tracker")
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": loggers,
    }

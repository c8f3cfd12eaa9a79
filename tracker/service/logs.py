"""Structured logs: one JSON object a line (``--log-format json``), and access-log paths
without secrets or personal data (``POLICY_TRACKER_ACCESS_LOG_REDACT``, on by default).

An acceptance-link token is a bearer credential until the link is used or expires, and a
user id is personal data that an erasure cannot reach once it is in a log file; the access
log keeps the route instead (``/accept/{token}``, ``/v1/users/{user_id}/status``).
"""

from __future__ import annotations

import json
import logging
import re
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


_PATHS = (
    (re.compile(r"^/accept/[^?#]*"), "/accept/{token}"),
    (re.compile(r"^/v1/users/[^?]+/(status|events|notices)(?=$|\?)"), r"/v1/users/{user_id}/\1"),
    (re.compile(r"^/v1/users/[^?]+"), "/v1/users/{user_id}"),
    (re.compile(r"^/v1/admin/users/[^?]+"), "/v1/admin/users/{user_id}"),
)
_QUERY = re.compile(r"([?&]user_id=)[^&#]*")


def redact_path(path: str) -> str:
    """``path`` (with its query) with link tokens and user ids replaced by placeholders."""
    for pattern, replacement in _PATHS:
        path, found = pattern.subn(replacement, path, count=1)
        if found:
            break
    return _QUERY.sub(r"\1{user_id}", path)


class RedactFilter(logging.Filter):
    """Rewrites the path of uvicorn's access-log records (``redact_path``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_path(args[2]), args[3], args[4])
        return True


def log_config(fmt: str, level: str = "info", *, redact: bool = True) -> dict[str, Any]:
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
    access = {**handler, "filters": ["redact"] if redact else []}
    loggers = {
        name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "tracker")
    }
    loggers["uvicorn.access"] = {"handlers": ["access"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "tracker.service.logs.RedactFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler, "access": access},
        "loggers": loggers,
    }

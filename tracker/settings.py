"""One frozen settings object, read from the environment with explicit overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "POLICY_TRACKER_"


@dataclass(frozen=True)
class Settings:
    """Where policies come from and where the tracker keeps its data.

    Every field can be set from the environment as ``POLICY_TRACKER_<FIELD>``
    (``DATABASE_URL`` is also read without the prefix).
    """

    repository: Path = field(default_factory=Path.cwd)
    source: str = "policy"
    ref: str = "HEAD"
    database_url: str = "sqlite:///policy-tracker.sqlite3"
    site_url: str = "http://127.0.0.1:8000/"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if "DATABASE_URL" in env:
            values["database_url"] = env["DATABASE_URL"]
        for name in ("repository", "source", "ref", "database_url", "site_url"):
            key = ENV_PREFIX + name.upper()
            if key in env:
                values[name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "repository" in values:
            values["repository"] = Path(values["repository"])
        return replace(cls(), **values)

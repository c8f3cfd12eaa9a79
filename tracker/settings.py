"""One frozen settings object, read from the environment with explicit overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import TrackerError

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
    #: The built site served at ``/`` by the service when the folder exists
    #: (relative paths are relative to ``repository``).
    site_dir: Path = Path("site")
    #: Largest request body the service reads; larger bodies get a 413.
    max_body_bytes: int = 8 * 1024 * 1024
    #: Largest ``context`` object an event may carry, as compact JSON.
    max_context_bytes: int = 4096
    #: Most user ids in one ``POST /v1/status/batch``.
    max_batch_users: int = 10_000
    #: The tracker's public base URL for hosted acceptance links (empty: the request's own).
    public_url: str = ""
    #: Seconds an acceptance link stays valid.
    acceptance_link_seconds: int = 900
    #: Seconds a console sign-in link stays valid (``policy-tracker console-link``).
    console_link_seconds: int = 900
    #: A console session ends after this many seconds without a request …
    console_idle_seconds: int = 1800
    #: … and this many seconds after sign-in, whichever comes first.
    console_session_seconds: int = 12 * 3600
    #: Secret that signs acceptance links; empty: one is generated and kept in the database.
    link_secret: str = ""
    #: Comma-separated proxy addresses or CIDR ranges whose ``X-Forwarded-For`` is believed.
    trusted_proxies: str = ""
    #: Store users' IP addresses and user agents with their events (false: the hosted page
    #: and the API keep neither; evidence bundles say so).
    store_ip: bool = True
    #: Replace user ids and acceptance-link tokens in access-log paths by placeholders.
    access_log_redact: bool = True
    #: Seconds a SQLite writer waits for the lock before the store retries.
    sqlite_busy_timeout: float = 30.0
    #: ``PRAGMA synchronous`` for SQLite; FULL keeps every 2xx durable through power loss.
    sqlite_synchronous: str = "FULL"
    #: Connection pool size per process (PostgreSQL): the thread pool's connections, and
    #: as many again for the status reads answered on the event loop.
    pool_size: int = 10
    #: Seconds a request waits for a free database connection before a 503 with
    #: ``Retry-After`` (PostgreSQL; the pool is exhausted or the database is down).
    pool_timeout: float = 5.0
    #: Seconds to wait for a new PostgreSQL connection to open (whole seconds, at least 2).
    connect_timeout: int = 3
    #: Seconds a process may answer reads from its copy of the catalog before checking
    #: the store for newly published versions (writes always check).
    catalog_cache_seconds: float = 1.0
    #: Seconds a process trusts an API key it has checked; a key revoked through another
    #: process stops working within this time (at once in the process that revoked it).
    auth_cache_seconds: float = 2.0
    #: Answer ``GET /v1/users/{id}/status`` (and on PostgreSQL ``POST /v1/status/batch``
    #: and a new ``POST /v1/acceptances``) in front of the router when the key and the
    #: catalog were checked recently (``tracker.service.fast``); same answers.
    status_fast_path: bool = True
    #: Seconds a webhook POST may take before it counts as failed.
    webhook_timeout: float = 15.0
    #: Comma-separated hosts or CIDR ranges webhooks may reach over plain http or on
    #: private/loopback addresses (e.g. ``127.0.0.1``); everything else must be public https.
    webhook_allowed_hosts: str = ""
    #: Hours the previous secret keeps signing beside the new one after a rotation.
    webhook_rotation_overlap_hours: float = 24.0
    #: Waits before each retry of a failed delivery (jittered ±20%); dead after the last.
    webhook_retry_schedule: str = "5s,1m,5m,30m,2h,6h,12h,24h,24h"
    #: Seconds a dispatcher holds the deliveries it claimed before others may take them.
    webhook_lease_seconds: float = 60.0
    #: Deliveries a dispatcher claims at once.
    dispatch_batch_size: int = 50
    #: Seconds an idle dispatcher waits before looking for due deliveries again.
    dispatch_poll_seconds: float = 1.0
    #: Requests a dispatcher has in flight at once (scale further with more dispatchers).
    dispatch_concurrency: int = 4
    #: Ed25519 key that signs audit checkpoints: a PEM file path or a base64 32-byte seed.
    audit_signing_key: str = ""
    #: Days an event's IP address is kept before ``purge`` blanks it (0: forever).
    retention_ip_days: int = 400
    #: Days an event's user agent is kept before ``purge`` blanks it (0: forever).
    retention_user_agent_days: int = 400
    #: Days an event's ``context`` is kept before ``purge`` blanks it (0: forever).
    retention_context_days: int = 400
    #: Days a response stored for an ``Idempotency-Key`` is kept for replays before
    #: ``purge`` deletes it (0: forever); a retry with the key after that is a new request.
    retention_idempotency_days: int = 1
    #: Seconds between checkpoints the service signs itself (0: off; needs the key).
    audit_checkpoint_seconds: float = 0.0
    #: Seconds between retention purges the service runs itself (0: off).
    audit_purge_seconds: float = 0.0
    #: The publisher's time zone (IANA name): the calendar day of a version's publication,
    #: its worked-out effective date and "today" (which version is in force) are days in
    #: it; instants stay UTC. The site's plugin reads the same variable.
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return resolve_zone(self.timezone, where=ENV_PREFIX + "TIMEZONE")

    @property
    def site_path(self) -> Path:
        return self.site_dir if self.site_dir.is_absolute() else self.repository / self.site_dir

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if "DATABASE_URL" in env:
            values["database_url"] = env["DATABASE_URL"]
        for f in fields(cls):
            key = ENV_PREFIX + f.name.upper()
            if key in env:
                values[f.name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **_coerce(values))
        try:
            settings.zone  # noqa: B018 - an unknown zone is refused before anything runs
        except ValueError as exc:
            raise TrackerError(str(exc)) from None
        return settings


def resolve_zone(name: str, *, where: str = "plugin option 'timezone'") -> ZoneInfo:
    """The zone of an IANA name, or a one-line error (ValueError)."""
    try:
        if not name.strip() or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{where}: unknown time zone {name!r}; use an IANA name such as "
            "Europe/Paris or America/Los_Angeles (default UTC)"
        ) from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Turn environment strings into the field's type (Path, bool, int, float); a value
    that is not one gets a one-line error naming the variable."""
    out = dict(values)
    defaults = Settings()
    for name, value in values.items():
        default = getattr(defaults, name)
        if isinstance(default, Path):
            out[name] = Path(value)
            continue
        if not isinstance(value, str):
            continue
        variable = ENV_PREFIX + name.upper()
        if isinstance(default, bool):
            word = value.strip().lower()
            if word not in _TRUE | _FALSE:
                raise TrackerError(f"{variable} must be true or false, not {value!r}")
            out[name] = word in _TRUE
        elif isinstance(default, int):
            if not value.strip().lstrip("-").isdigit():
                raise TrackerError(f"{variable} must be a whole number, not {value!r}")
            out[name] = int(value)
        elif isinstance(default, float):
            try:
                out[name] = float(value)
            except ValueError:
                raise TrackerError(f"{variable} must be a number, not {value!r}") from None
    return out

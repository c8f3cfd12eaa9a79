"""An in-memory snapshot of policies and version metadata (no texts), cached per store.

Status answers need every version's number, significance and effective date; there are
few of them, so each process keeps a snapshot and re-reads it only when the store's
``catalog_revision`` moves (one primary-key lookup per request).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.errors import NotFound, StaleCatalog
from tracker.policy import numbered
from tracker.store.models import PolicyRow, VersionRow
from tracker.store.publish import catalog_revision
from tracker.store.translations import Translations, load_translations
from tracker.timeline import Timeline, in_force, timeline


@dataclass(frozen=True)
class VersionInfo:
    id: int
    policy_id: int
    number: int
    significance: str
    effective_on: date
    published_at: datetime
    summary: str
    title: str
    sha256: str
    commit: str


@dataclass(frozen=True)
class PolicyInfo:
    id: int
    slug: str
    title: str
    path: str
    aliases: tuple[str, ...]
    acceptance_required: bool
    notice_days: int
    withdrawn: bool
    versions: tuple[VersionInfo, ...]  # by number, 1..n
    #: The BCP 47 tag of the source text's language (its translations are in others).
    language: str = "en"

    def version(self, number: int) -> VersionInfo:
        return numbered(self.slug, self.versions, number, code="version_not_found")

    @cached_property
    def effective_dates(self) -> tuple[date, ...]:
        return tuple(v.effective_on for v in self.versions)

    def timeline(self, today: date) -> Timeline:
        """Every version's state on a day (the rule the site uses: tracker.timeline)."""
        return timeline(self.effective_dates, today)

    def current(self, today: date) -> VersionInfo | None:
        number = in_force(self.effective_dates, today)
        return self.versions[number - 1] if number is not None else None

    def takes_effect(self, version: VersionInfo) -> date:
        """The day a version's change comes into force: its effective date, or, if a later
        version overtakes it, that version's (the same on every day)."""
        return min(self.effective_dates[version.number - 1 :])


@dataclass(frozen=True)
class Snapshot:
    revision: int
    policies: tuple[PolicyInfo, ...]  # by slug
    by_slug: dict[str, PolicyInfo]
    by_id: dict[int, PolicyInfo]
    versions: dict[int, VersionInfo]  # by version id
    translations: Translations = field(default_factory=dict)  # see store.translations

    def version_by_id(self, version_id: int) -> VersionInfo:
        """The version a stored row names; ``StaleCatalog`` when this snapshot predates it."""
        found = self.versions.get(version_id)
        if found is None:
            raise StaleCatalog(f"version id {version_id} was published after this catalog")
        return found

    def policy_by_id(self, policy_id: int) -> PolicyInfo:
        """The policy a stored row names; ``StaleCatalog`` when this snapshot predates it."""
        found = self.by_id.get(policy_id)
        if found is None:
            raise StaleCatalog(f"policy id {policy_id} was published after this catalog")
        return found

    def policy(self, slug: str) -> PolicyInfo:
        key = slug.strip("/").lower()
        found = self.by_slug.get(key)
        if found is None:
            for p in self.policies:
                if key in p.aliases:
                    return p
            known = ", ".join(sorted(self.by_slug)) or "none"
            raise NotFound(f"unknown policy {slug!r} (known: {known})", code="policy_not_found")
        return found


def load_snapshot(session: Session, revision: int | None = None) -> Snapshot:
    revision = catalog_revision(session) if revision is None else revision
    versions: dict[int, list[VersionInfo]] = {}
    by_id_v: dict[int, VersionInfo] = {}
    for r in session.execute(
        select(
            VersionRow.id,
            VersionRow.policy_id,
            VersionRow.number,
            VersionRow.significance,
            VersionRow.effective_on,
            VersionRow.published_at,
            VersionRow.summary,
            VersionRow.title,
            VersionRow.sha256,
            VersionRow.commit,
        ).order_by(VersionRow.policy_id, VersionRow.number)
    ):
        info = VersionInfo(
            r.id,
            r.policy_id,
            r.number,
            r.significance,
            r.effective_on,
            r.published_at,
            r.summary,
            r.title,
            r.sha256,
            r.commit,
        )
        versions.setdefault(info.policy_id, []).append(info)
        by_id_v[info.id] = info
    policies = []
    for p in session.scalars(select(PolicyRow).order_by(PolicyRow.slug)):
        policies.append(
            PolicyInfo(
                p.id,
                p.slug,
                p.title,
                p.path,
                tuple(p.aliases or ()),
                p.acceptance_required,
                p.notice_days,
                p.withdrawn,
                tuple(versions.get(p.id, ())),
                p.language,
            )
        )
    return Snapshot(
        revision,
        tuple(policies),
        {p.slug: p for p in policies},
        {p.id: p for p in policies},
        by_id_v,
        load_translations(session),
    )


class SnapshotCache:
    """The latest snapshot, re-read when the revision in the database moves."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def get(self, session: Session, *, max_age: float = 0.0) -> Snapshot:
        """The current snapshot; with ``max_age``, one checked that recently is good enough."""
        snap = self._snapshot
        now = time.monotonic()
        if snap is not None and max_age > 0 and now - self._checked < max_age:
            return snap
        revision = catalog_revision(session)
        if snap is not None and snap.revision == revision:
            self._checked = now
            return snap
        with self._lock:
            snap = load_snapshot(session, revision)
            self._snapshot = snap
            self._checked = now
            return snap

    def recent(self, max_age: float) -> Snapshot | None:
        """The snapshot if it was checked within ``max_age`` seconds, without a read."""
        snap = self._snapshot
        if snap is not None and time.monotonic() - self._checked < max_age:
            return snap
        return None

    def expire(self) -> None:
        """Check the revision again on the next ``get`` (the catalog moved under a read)."""
        self._checked = 0.0

    def clear(self) -> None:
        self._snapshot = None

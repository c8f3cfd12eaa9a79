"""``policy-tracker import django-termsandconditions``: the app's versions become a policy
repository, published into the tracker, and its acceptances become events with their
original time and address, method ``import``, chained like any other.

Idempotent and resumable: the repository is reused when it was made from the same versions,
publishing is idempotent, and an acceptance already imported (the same user, version and
time, method ``import``) is skipped. Acceptances are written in batches, each its own
transaction, so an interrupted import keeps the batches it committed and the next run
carries on from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from tracker import migrations
from tracker.errors import TrackerError
from tracker.importers.repository import build_repository
from tracker.importers.termsandconditions import Acceptance, Peer, read_peer, source_url
from tracker.settings import Settings
from tracker.store import Store, load_snapshot
from tracker.store.engine import normalise_url
from tracker.store.events import NewEvent, imported, record
from tracker.store.sealer import flush
from tracker.sync import sync

BATCH = 200

#: Told after each batch: (acceptances done, of how many).
Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    versions: int = 0
    policies: list[str] = field(default_factory=list)
    versions_published: int = 0
    acceptances: int = 0
    imported: int = 0
    already: int = 0
    users: int = 0
    repository: Path = Path()
    #: Imported IP addresses older than ``retention_ip_days``: the next purge blanks them.
    ip_past_retention: int = 0


def import_termsandconditions(
    settings: Settings,
    source: str,
    into: Path,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the django-termsandconditions database at ``source``: the repository into
    ``into`` and the acceptances into the tracker's database (``settings``)."""
    if _same_database(settings.database_url, source):
        raise TrackerError(
            "the tracker's database is the django-termsandconditions database: give the "
            "tracker its own (--database-url or POLICY_TRACKER_DATABASE_URL)"
        )
    peer = read_peer(source, now)  # everything checked before anything is written
    commits = build_repository(peer.terms, into, now)
    result = ImportResult(
        versions=len(peer.terms),
        policies=sorted({t.slug for t in peer.terms}),
        acceptances=len(peer.acceptances),
        users=len({a.user_id for a in peer.acceptances}),
        repository=into,
    )
    if settings.retention_ip_days > 0 and settings.store_ip:
        cutoff = now - timedelta(days=settings.retention_ip_days)
        result.ip_past_retention = sum(
            1 for a in peer.acceptances if a.ip and a.accepted_at < cutoff
        )
    store = Store.open(settings)
    try:
        migrations.upgrade(store.engine)
        published = sync(replace(settings, repository=into, source="policy", ref="HEAD"), store)
        result.versions_published = len(published.created)
        versions = _versions(store, peer, commits)
        done = 0
        for start in range(0, len(peer.acceptances), BATCH):
            batch = peer.acceptances[start : start + BATCH]
            added = store.write(
                partial(_record, batch=batch, versions=versions, settings=settings, now=now)
            )
            result.imported += added
            result.already += len(batch) - added
            done += len(batch)
            if progress is not None:
                progress(done, len(peer.acceptances))
        flush(store.engine)
    finally:
        store.dispose()
    return result


def _same_database(tracker: str, source: str) -> bool:
    try:
        return normalise_url(tracker) == normalise_url(source) or (
            source_url(source) == source_url(tracker)
        )
    except TrackerError:
        return False


def _versions(store: Store, peer: Peer, commits: dict[int, str]) -> dict[int, tuple[str, int]]:
    """(slug, version number) in the tracker of each terms id, by the commit that made it."""
    with store.read() as session:
        snapshot = load_snapshot(session)
    by_commit = {
        (snapshot.policy_by_id(v.policy_id).slug, v.commit): v.number
        for v in snapshot.versions.values()
    }
    out = {}
    for t in peer.terms:
        number = by_commit.get((t.slug, commits[t.id]))
        if number is None:
            raise TrackerError(
                f"version {t.label} made no version of policy {t.slug} (its text normalises "
                "to the previous version's); nothing of it was imported"
            )
        out[t.id] = (t.slug, number)
    return out


def _record(
    session: Session,
    *,
    batch: tuple[Acceptance, ...],
    versions: dict[int, tuple[str, int]],
    settings: Settings,
    now: datetime,
) -> int:
    """Record the batch's acceptances not imported yet; how many were recorded."""
    snapshot = load_snapshot(session)
    seen = imported(session, {a.user_id for a in batch})
    added = 0
    for a in batch:
        slug, number = versions[a.terms_id]
        policy = snapshot.policy(slug)
        version = policy.version(number)
        if (a.user_id, version.id, a.accepted_at) in seen:
            continue
        new = NewEvent(
            user_id=a.user_id,
            kind="accepted",
            method="import",
            api_key_id=None,
            ip=a.ip if settings.store_ip else None,
            at=a.accepted_at,
        )
        added += record(session, snapshot, policy, version, new, now)[2]
    return added


__all__ = ["ImportResult", "import_termsandconditions"]

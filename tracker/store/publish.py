"""Publishing versions into the store: idempotent upserts that never change a version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidInput
from tracker.policy import Policy, Version, source_language
from tracker.store import notices
from tracker.store.models import MetaRow, PolicyRow, VersionRow

CATALOG_REVISION = "catalog_revision"


@dataclass
class PublishResult:
    """What a publish changed; ``created`` lists (slug, number, version id) of new versions."""

    created: list[tuple[str, int, int]] = field(default_factory=list)
    unchanged: int = 0
    policies_created: list[str] = field(default_factory=list)
    policies_updated: list[str] = field(default_factory=list)
    #: (slug, language, number) of new versions of translations
    translations: list[tuple[str, str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "created": [{"policy": s, "version": n} for s, n, _ in self.created],
            "unchanged": self.unchanged,
            "policies_created": self.policies_created,
            "policies_updated": self.policies_updated,
            "translations_created": [
                {"policy": s, "language": lang, "version": n} for s, lang, n in self.translations
            ],
        }

    def summary(self) -> str:
        made = ", ".join(
            [f"{s} v{n}" for s, n, _ in self.created]
            + [f"{s} ({lang}) v{n}" for s, lang, n in self.translations]
        )
        made = made or "no new versions"
        return f"{made}; {self.unchanged} version(s) already stored"


def bump_revision(session: Session) -> None:
    done = session.execute(
        update(MetaRow).where(MetaRow.name == CATALOG_REVISION).values(value=MetaRow.value + 1)
    )
    if getattr(done, "rowcount", 0) == 0:
        session.add(MetaRow(name=CATALOG_REVISION, value=1))
        session.flush()


_REVISION = select(MetaRow.value).where(MetaRow.name == CATALOG_REVISION)


def catalog_revision(session: Session) -> int:
    value = session.connection().execute(_REVISION).scalar()
    return int(value or 0)


def _find_policy(session: Session, policy: Policy) -> PolicyRow | None:
    row = session.scalars(select(PolicyRow).where(PolicyRow.slug == policy.slug)).one_or_none()
    if row is None and policy.aliases:
        # A renamed policy keeps its row (and its users' acceptances) under the new slug.
        row = session.scalars(select(PolicyRow).where(PolicyRow.slug.in_(policy.aliases))).first()
    return row


def publish(
    session: Session, policies: Iterable[Policy], *, now: datetime | None = None
) -> PublishResult:
    """Upsert policies and their versions. A stored version whose SHA-256 differs is refused."""
    now = now or datetime.now(UTC)
    result = PublishResult()
    changed = False
    for policy in policies:
        row = _find_policy(session, policy)
        attrs = {
            "slug": policy.slug,
            "title": policy.title,
            "path": policy.path,
            "aliases": sorted(policy.aliases),
            "acceptance_required": policy.settings.acceptance_required,
            "notice_days": policy.settings.notice_days,
            "withdrawn": policy.withdrawn,
            "language": source_language(policy),
        }
        if row is None:
            row = PolicyRow(**attrs, updated_at=now)
            session.add(row)
            session.flush()
            result.policies_created.append(policy.slug)
            changed = True
        elif any(getattr(row, k) != v for k, v in attrs.items()):
            for k, v in attrs.items():
                setattr(row, k, v)
            row.updated_at = now
            result.policies_updated.append(policy.slug)
            changed = True
        stored = {
            number: sha
            for number, sha in session.execute(
                select(VersionRow.number, VersionRow.sha256).where(VersionRow.policy_id == row.id)
            )
        }
        new_rows: list[VersionRow] = []
        for version in policy.versions:
            old = stored.get(version.number)
            if old is not None:
                if old != version.sha256:
                    raise Conflict(
                        f"policy {policy.slug} version {version.number} is stored with SHA-256 "
                        f"{old} but the source now has {version.sha256}; published versions "
                        "never change (was history rewritten?)",
                        code="version_changed",
                    )
                result.unchanged += 1
                continue
            if version.number != 1 and version.number - 1 not in stored:
                raise InvalidInput(
                    f"policy {policy.slug} version {version.number}: version "
                    f"{version.number - 1} is neither stored nor published with it"
                )
            vrow = _version_row(row.id, version, now)
            session.add(vrow)
            session.flush()
            stored[version.number] = version.sha256
            result.created.append((policy.slug, version.number, vrow.id))
            new_rows.append(vrow)
            changed = True
        # Notices and webhook messages, in this transaction (tracker.store.notices).
        notices.on_versions_created(session, row, new_rows, now)
    if changed:
        bump_revision(session)
    return result


def _version_row(policy_id: int, version: Version, now: datetime) -> VersionRow:
    return VersionRow(
        policy_id=policy_id,
        significance=version.significance.value,
        significance_source=version.significance_source.value,
        summary=version.summary,
        author=version.author,
        **version_columns(version, now),
    )


def version_columns(version: Version, now: datetime) -> dict[str, Any]:
    """The columns a source's version and a translation's version both store (``versions``
    and ``translation_versions``), from the version read from git or given to the API."""
    return dict(
        number=version.number,
        commit=version.commit,
        published_at=version.published,
        effective_on=version.effective,
        title=version.title,
        path=version.path,
        text=version.text,
        sha256=version.sha256,
        created_at=now,
    )

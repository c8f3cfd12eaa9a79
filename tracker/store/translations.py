"""Translations in the store: each translation's versions, bound to their own SHA-256 and to
the source version they translate (see :mod:`tracker.history.translations`).

An acceptance that names a ``locale`` is bound to the text in that language: the latest
version of the translation that translates the accepted source version and was published by
the time of the acceptance (:func:`translation_of`). Translation versions never change once
published (a changed one is refused, like a source version), and the chain covers the
event's locale, version and time, so the binding is as fixed as the event itself.

A withdrawn translation (its file deleted, or its source withdrawn) keeps its versions, with
the time it was withdrawn (``withdrawn_at``, on every version of that language; cleared if it
comes back): status never points a reader at it, and an acceptance recorded after it was
withdrawn is not bound to it (the reader cannot have been shown it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.errors import Conflict, InvalidInput
from tracker.languages import serving_language
from tracker.policy import Policy
from tracker.store.models import Base, PolicyRow, UTCDateTime, VersionRow
from tracker.store.notices.outbox import enqueue, subscribers
from tracker.store.publish import bump_revision, version_columns

#: The webhook event that announces a new version of a translation.
TRANSLATION_PUBLISHED = "policy.translation_published"


class TranslationVersionRow(Base):
    __tablename__ = "translation_versions"
    __table_args__ = (UniqueConstraint("policy_id", "language", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="RESTRICT"))
    language: Mapped[str] = mapped_column(String(35))
    number: Mapped[int] = mapped_column(Integer)
    translates_version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="RESTRICT")
    )
    commit: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(500))
    path: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class TranslationInfo:
    """One version of a translation, without its text."""

    id: int
    policy_id: int
    language: str
    number: int
    translates: int  # the source version number
    sha256: str
    published_at: datetime
    title: str
    withdrawn_at: datetime | None = None

    def shown_at(self, at: datetime | None) -> bool:
        """Whether the text was there to be read at ``at`` (None: now)."""
        if self.withdrawn_at is None:
            return at is None or self.published_at <= at
        return at is not None and self.published_at <= at < self.withdrawn_at


#: policy id → language → its versions, oldest first
Translations = Mapping[int, Mapping[str, tuple[TranslationInfo, ...]]]


def publish_translations(
    session: Session, translations: Mapping[str, Mapping[str, Policy]], now: datetime
) -> list[tuple[str, str, int]]:
    """Store new versions of translations (their sources published first); a stored one
    whose SHA-256 differs is refused. Returns (slug, language, number) of each new one."""
    created: list[tuple[str, str, int]] = []
    rows: list[TranslationVersionRow] = []
    for slug, by_language in sorted(translations.items()):
        policy_id = session.scalars(select(PolicyRow.id).where(PolicyRow.slug == slug)).first()
        if policy_id is None:
            raise InvalidInput(f"translations of {slug}: the policy is not published")
        source = {
            number: vid
            for number, vid in session.execute(
                select(VersionRow.number, VersionRow.id).where(VersionRow.policy_id == policy_id)
            )
        }
        stored = {
            (language, number): sha
            for language, number, sha in session.execute(
                select(
                    TranslationVersionRow.language,
                    TranslationVersionRow.number,
                    TranslationVersionRow.sha256,
                ).where(TranslationVersionRow.policy_id == policy_id)
            )
        }
        for language, translation in sorted(by_language.items()):
            _mark_withdrawn(session, policy_id, language, translation)
            for version in translation.versions:
                old = stored.get((language, version.number))
                if old is not None:
                    if old != version.sha256:
                        raise Conflict(
                            f"translation {slug} ({language}) version {version.number} is "
                            f"stored with SHA-256 {old} but the source now has "
                            f"{version.sha256}; published versions never change",
                            code="version_changed",
                        )
                    continue
                if version.translates not in source:
                    raise InvalidInput(
                        f"translation {slug} ({language}) version {version.number} translates "
                        f"v{version.translates}, which {slug} has not published; publish the "
                        "source version first"
                    )
                row = TranslationVersionRow(
                    policy_id=policy_id,
                    language=language,
                    translates_version_id=source[version.translates],
                    **version_columns(version, now),
                    withdrawn_at=withdrawn_at(translation),
                )
                session.add(row)
                rows.append(row)
                created.append((slug, language, version.number))
    if created:
        session.flush()
        bump_revision(session)
        _announce(session, rows, now)
    return created


def _announce(session: Session, rows: list[TranslationVersionRow], now: datetime) -> None:
    """A ``policy.translation_published`` message for each new version, in the transaction
    that stores them (so a stored version is always announced, and only a stored one)."""
    endpoints = subscribers(session, TRANSLATION_PUBLISHED)
    for row in rows if endpoints else ():
        data = {"policy_id": row.policy_id, "translation_version_id": row.id}
        enqueue(session, TRANSLATION_PUBLISHED, data, now, endpoints=endpoints)


def withdrawn_at(translation: Policy) -> datetime | None:
    """When a withdrawn translation was withdrawn (its last gap); None when it is not."""
    return translation.gaps[-1].withdrawn if translation.withdrawn and translation.gaps else None


def _mark_withdrawn(session: Session, policy_id: int, language: str, translation: Policy) -> None:
    """Set (or clear, when it came back) when the stored versions of a language were
    withdrawn; a change bumps the catalog's revision like a new version does."""
    when = withdrawn_at(translation)
    changed = session.execute(
        update(TranslationVersionRow)
        .where(
            TranslationVersionRow.policy_id == policy_id,
            TranslationVersionRow.language == language,
            TranslationVersionRow.withdrawn_at.is_distinct_from(when),
        )
        .values(withdrawn_at=when)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0):
        bump_revision(session)


def load_translations(session: Session) -> dict[int, dict[str, tuple[TranslationInfo, ...]]]:
    """Every translation version (no texts), for the catalog snapshot."""
    found: dict[int, dict[str, list[TranslationInfo]]] = {}
    rows = session.execute(
        select(
            TranslationVersionRow.id,
            TranslationVersionRow.policy_id,
            TranslationVersionRow.language,
            TranslationVersionRow.number,
            VersionRow.number,
            TranslationVersionRow.sha256,
            TranslationVersionRow.published_at,
            TranslationVersionRow.title,
            TranslationVersionRow.withdrawn_at,
        )
        .join(VersionRow, VersionRow.id == TranslationVersionRow.translates_version_id)
        .order_by(TranslationVersionRow.policy_id, TranslationVersionRow.number)
    )
    for row in rows:
        info = TranslationInfo(*row)  # id, policy, language, number, translates, …
        found.setdefault(info.policy_id, {}).setdefault(info.language, []).append(info)
    return {p: {lang: tuple(vs) for lang, vs in d.items()} for p, d in found.items()}


def translation_of(
    translations: Translations,
    policy_id: int,
    version: int,
    locale: str | None,
    at: datetime | None = None,
    *,
    source: str,
) -> TranslationInfo | None:
    """The text in ``locale``'s language of source ``version`` as published at ``at`` (None:
    now): the latest translation version that translates it and was not withdrawn then;
    None when there is none, or when the source, in language ``source``, serves ``locale``
    (:func:`tracker.languages.serving_language`)."""
    by_language = {
        language: shown
        for language, versions in translations.get(policy_id, {}).items()
        if (shown := [t for t in versions if t.shown_at(at)])
    }
    language = serving_language(by_language, locale, source) if locale else None
    if language is None:
        return None
    matching = [t for t in by_language[language] if t.translates == version]
    return matching[-1] if matching else None


def translation_texts(session: Session, ids: set[int]) -> dict[int, str]:
    """The exact texts of translation versions, by id (evidence bundles)."""
    if not ids:
        return {}
    query = select(TranslationVersionRow.id, TranslationVersionRow.text).where(
        TranslationVersionRow.id.in_(ids)
    )
    return {tid: text for tid, text in session.execute(query)}


def translation_by_id(
    translations: Translations, policy_id: int, translation_id: int | None
) -> TranslationInfo | None:
    """The translation version an event is bound to (its ``translation_version_id``)."""
    if translation_id is None:
        return None
    for versions in translations.get(policy_id, {}).values():
        for info in versions:
            if info.id == translation_id:
                return info
    return None


def bound(info: TranslationInfo | None) -> dict[str, Any] | None:
    """The text in the user's language an event is bound to, as answers show it."""
    if info is None:
        return None
    return {
        "language": info.language,
        "version": info.number,
        "translates": info.translates,
        "sha256": info.sha256,
    }

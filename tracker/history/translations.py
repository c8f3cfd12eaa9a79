"""Translations: ``policy/<slug>.<bcp47>.md`` files beside their policy, and their versions.

A translation has its own versions, made by the same rules as a policy's (first-parent
commits that change its title or body, renames followed), each bound to its own SHA-256
and to the source version it translates: the front matter's ``translates: N``, or a
``Policy-Translates: privacy.de=N`` trailer of the commit (which wins). Changing only what
a translation translates makes a new version of it too (same text, new binding).

A translation is a :class:`~tracker.policy.Policy` whose ``slug`` is its source's and whose
``language`` is its tag; each version's ``translates`` names the source version. It takes
effect on the day it is published (a day in the publisher's time zone, as a source version's
publication day is), never before the source version it translates.

A translation is *withdrawn* when its file is deleted, and also when its source is withdrawn
while the file stays: it then renders a text that no longer applies. Its last gap says when
and by which commit; the site, ``log``, ``check`` and the tracker treat it as gone (no
switcher entry, no ``hreflang``, never the text a status answer points at).

Every bad input is a one-line :class:`~tracker.errors.SourceError` naming file and commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from tracker.errors import DeclarationError, SourceError
from tracker.history.gitio import Commit
from tracker.history.walk import Pending, Source, Track, Walk
from tracker.languages import (
    LanguageError,
    Staleness,
    canonical_tag,
    split_translation_path,
    staleness,
)
from tracker.policy import Gap, Policy, Significance, Version, parse_trailers, source_language

TRAILER_TRANSLATES = "policy-translates"
TRAILER_PENDING = "policy-translation-pending"


class TranslationWalk(Walk):
    """The first-parent walk over translation files (those with a language suffix)."""

    def _is_policy(self, path: str) -> bool:
        return split_translation_path(path, self.source) is not None

    def _binding(self, track: Track, parsed: Source, commit: Commit) -> object:
        where = f"{track.path} at commit {commit.sha[:12]}"
        value: Any = translates_trailer(commit.message, commit=commit.sha).get(track.slug)
        if value is None:
            value = parsed.settings.extra.get("translates")
        if value is None:
            raise SourceError(
                f"{where}: names no source version; add 'translates: N' to its front matter "
                f"or a 'Policy-Translates: {track.slug}=N' trailer"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SourceError(f"{where}: 'translates' must be a source version number ≥ 1")
        return value


def translates_trailer(message: str, *, commit: str) -> dict[str, int]:
    """``Policy-Translates: privacy.de=5, terms.fr=2`` → {``privacy.de``: 5, ``terms.fr``: 2}."""
    found: dict[str, int] = {}
    for key, value in parse_trailers(message):
        if key != TRAILER_TRANSLATES:
            continue
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, _, number = part.partition("=")
            if not name.strip() or not number.strip().isdigit() or int(number) < 1:
                raise DeclarationError(
                    f"commit {commit[:12]}: Policy-Translates {part!r} is malformed; "
                    "write <policy>.<language>=<source version>, e.g. privacy.de=5"
                )
            found[name.strip().lower()] = int(number)
    return found


def pending_trailer(messages: Iterable[str]) -> frozenset[str]:
    """The languages a ``Policy-Translation-Pending: de, fr`` trailer names (any message)."""
    tags: set[str] = set()
    for message in messages:
        for key, value in parse_trailers(message):
            if key == TRAILER_PENDING:
                tags.update(t.strip().lower() for t in value.split(",") if t.strip())
    return frozenset(tags)


def required_languages(policy: Policy) -> tuple[str, ...]:
    """The languages front matter ``translations_required: [de, fr]`` says must keep up."""
    value = policy.settings.extra.get("translations_required", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SourceError(
            f"{policy.path}: front matter 'translations_required' must be a list of "
            "language tags, e.g. [de, fr]"
        )
    try:
        return tuple(canonical_tag(str(tag)) for tag in value)
    except LanguageError as exc:
        raise SourceError(f"{policy.path}: front matter 'translations_required': {exc}") from None


def freshness(source: Policy, translation: Policy, on: date) -> Staleness:
    """Is ``translation`` current, behind or stale against ``source`` on ``on``?"""
    latest = translation.latest
    assert latest is not None and latest.translates is not None and source.latest is not None
    in_force = source.current(on) or source.latest
    return staleness(
        latest.translates, in_force.number, [str(v.significance) for v in source.versions]
    )


def read_translations(
    walk: TranslationWalk,
    policies: Mapping[str, Policy],
    commits: Sequence[Commit],
    zone: ZoneInfo,
) -> dict[str, dict[str, Policy]]:
    """Each policy's translations by language, checked against the source's versions; a
    version's publication day is a day in ``zone``."""
    position = {commit.sha: n for n, commit in enumerate(commits)}
    found: dict[str, dict[str, Policy]] = {}
    for track in sorted(walk.tracks.values(), key=lambda t: t.slug):
        if not track.versions:
            continue
        first = track.versions[0]
        where = f"{first.path} at commit {first.commit.sha[:12]}"
        parts = split_translation_path(track.path, walk.source)
        assert parts is not None
        base, written = parts
        try:
            tag = canonical_tag(written)
        except LanguageError as exc:
            raise SourceError(f"{where}: {exc}") from None
        if split_translation_path(f"{walk.source}/{base}.md", walk.source) is not None:
            raise SourceError(
                f"{where}: a translation of {base}.md, which is itself a translation; "
                "translate the source policy"
            )
        source = _source(policies, base)
        if source is None or not source.versions:
            raise SourceError(
                f"{where}: no source file {walk.source}/{base}.md; add the policy first "
                "or rename the translation"
            )
        if tag == source_language(source):
            raise SourceError(
                f"{where}: {tag} is the language of {source.path} itself; a translation "
                "is in another language"
            )
        versions = _versions(track, source, tag, position, zone)
        gaps = _gaps(track, source, versions)
        found.setdefault(source.slug, {})[tag] = Policy(
            slug=source.slug,
            path=track.path,
            settings=track.settings or source.settings,
            versions=versions,
            withdrawn=not track.live or len(gaps) > len(track.gaps),
            gaps=gaps,
            language=tag,
        )
    return found


def _gaps(track: Track, source: Policy, versions: Sequence[Version]) -> tuple[Gap, ...]:
    """The translation's gaps, with one more when its source is withdrawn and it is not:
    from the source's withdrawal (or its own later version), by the commit that made it."""
    gaps = tuple(track.gaps)
    if not track.live or not source.withdrawn or not source.gaps:
        return gaps
    gone, latest = source.gaps[-1], versions[-1]
    if latest.published > gone.withdrawn:  # changed while its source was gone
        return (*gaps, Gap(latest.number, latest.published, commit=latest.commit, source_gone=True))
    return (*gaps, Gap(len(versions), gone.withdrawn, commit=gone.commit, source_gone=True))


def withdrawal(translation: Policy) -> Gap | None:
    """When and by which commit a withdrawn translation was withdrawn; None when it is not."""
    return translation.gaps[-1] if translation.withdrawn and translation.gaps else None


def _source(policies: Mapping[str, Policy], slug: str) -> Policy | None:
    if slug in policies:
        return policies[slug]
    return next((p for p in policies.values() if slug in p.aliases), None)


def _versions(
    track: Track, source: Policy, tag: str, position: Mapping[str, int], zone: ZoneInfo
) -> tuple[Version, ...]:
    versions: list[Version] = []
    for pending in track.versions:
        where = f"{pending.path} at commit {pending.commit.sha[:12]}"
        translates = pending.binding
        assert isinstance(translates, int)
        at = position[pending.commit.sha]
        known = sum(1 for v in source.versions if position.get(v.commit, at + 1) <= at)
        if known == 0:
            raise SourceError(
                f"{where}: no source file {source.path} at this commit; commit the policy "
                "before its translation"
            )
        if translates > known:
            raise SourceError(
                f"{where}: translates v{translates}, but {source.slug} has only versions "
                f"1–{known} at this commit; name a version that exists"
            )
        before = versions[-1].translates if versions else None
        if before is not None and translates < before:
            raise SourceError(
                f"{where}: translates v{translates}, but its previous version translates "
                f"v{before}; 'translates' never goes backwards"
            )
        versions.append(_version(pending, source, tag, translates, before, zone))
    return tuple(versions)


def _version(
    pending: Pending, source: Policy, tag: str, translates: int, before: int | None, zone: ZoneInfo
) -> Version:
    rendered = source.version(translates)
    newer = source.versions[(before or 0) : translates]
    significance = max(
        (v.significance for v in newer), key=lambda s: s.rank, default=Significance.PATCH
    )
    commit = pending.commit
    return pending.version(
        source.slug,
        significance,
        rendered.significance_source,
        _subject(commit) or f"Translation ({tag}) of version {translates}.",
        # the publication day is the publisher's, as for a source version
        max(commit.committed.astimezone(zone).date(), rendered.effective),
        translates=translates,
    )


def _subject(commit: Commit) -> str:
    lines = commit.message.strip().splitlines()
    return lines[0].strip() if lines else ""

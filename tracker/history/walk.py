"""The first-parent walk: which commit makes which version of which policy.

Pure bookkeeping over parsed log records and blob contents; no git process is started here.
The walk yields :class:`Pending` versions; :mod:`tracker.history.reader` gives them their
significance and effective date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from tracker.errors import SourceError
from tracker.history.formerly import former_slugs
from tracker.history.gitio import Change, Commit
from tracker.policy import (
    Gap,
    PolicySettings,
    Significance,
    SignificanceSource,
    Version,
    decode_source,
    is_policy_path,
    normalise_text,
    policy_settings,
    sha256_text,
    slug_for_path,
    split_front_matter,
)


@dataclass(frozen=True)
class Source:
    """A policy file's content, parsed: its settings and normalised text."""

    settings: PolicySettings
    text: str


def parse_source(raw: bytes, *, path: str, source: str, where: str) -> Source:
    """Decode and validate one policy file (``where`` names it in errors)."""
    text = decode_source(raw, where=where)
    try:
        meta, body = split_front_matter(text, where=where)
    except SourceError as exc:
        raise SourceError(f"{exc.message}; fix the YAML between the --- lines") from None
    settings = policy_settings(meta, slug=slug_for_path(path, source), where=where)
    return Source(settings, normalise_text(settings.title, body))


@dataclass(frozen=True)
class Pending:
    """A version found by the walk, before its significance is known."""

    slug: str  # the slug at the commit (scoped trailers name it)
    aliases: tuple[str, ...]
    number: int
    commit: Commit
    path: str
    title: str
    text: str
    previous: str | None
    notice_days: int
    #: What the version is bound to besides its text (a translation: the source version).
    binding: object = None

    def version(
        self,
        policy: str,
        significance: Significance,
        significance_source: SignificanceSource,
        summary: str,
        effective: date,
        *,
        effective_declared: bool = False,
        translates: int | None = None,
    ) -> Version:
        """The version this commit published: its text and the commit's facts (sha, date,
        author), with what the reader decided about it."""
        return Version(
            policy=policy,
            number=self.number,
            commit=self.commit.sha,
            published=self.commit.committed,
            author=self.commit.author,
            title=self.title,
            text=self.text,
            sha256=sha256_text(self.text),
            significance=significance,
            significance_source=significance_source,
            summary=summary,
            effective=effective,
            path=self.path,
            effective_declared=effective_declared,
            translates=translates,
        )


@dataclass
class Track:
    """One policy as the walk follows it through adds, edits, renames and deletes."""

    slug: str
    path: str
    settings: PolicySettings | None = None
    text: str | None = None
    blob: str | None = None
    aliases: list[str] = field(default_factory=list)
    versions: list[Pending] = field(default_factory=list)
    live: bool = True
    gaps: list[Gap] = field(default_factory=list)  # deleted, then (maybe) added again
    binding: object = None


class Walk:
    """Apply first-parent commits, oldest first, to the set of policies."""

    def __init__(self, source: str, blobs: Mapping[str, bytes]):
        self.source = source.strip("/")
        self.blobs = blobs
        self.tracks: dict[str, Track] = {}  # by current slug, withdrawn ones included
        self.live: dict[str, Track] = {}  # by current path
        self.withdrawn_now: list[Track] = []  # by the commit being applied

    def apply(self, commit: Commit) -> None:
        policy = self._is_policy
        self.withdrawn_now = []
        # Deletes and renames first: a commit may free a path or slug that it also reuses.
        for change in commit.changes:
            if change.status == "D" and policy(change.path):
                self._withdraw(change.path, commit)
        moved: list[tuple[Track | None, Change]] = []
        for change in commit.changes:
            if change.status == "R":
                old = change.old_path or ""
                track = self.live.pop(old, None) if policy(old) else None
                if track is not None:
                    track.live = False
                moved.append((track, change))
        for track, change in moved:
            if not policy(change.path):
                continue
            if track is None:
                self._add(change, commit)
            else:
                self._move(track, change, commit)
        for change in commit.changes:
            if change.status in "AM" and policy(change.path):
                track = self.live.get(change.path)
                if track is None:
                    self._add(change, commit)
                else:
                    self._content(track, change, commit)

    def _is_policy(self, path: str) -> bool:
        return is_policy_path(path, self.source)

    def _withdraw(self, path: str, commit: Commit) -> None:
        track = self.live.pop(path, None)
        if track is not None:
            track.live = False
            track.gaps.append(Gap(len(track.versions), commit.committed, commit=commit.sha))
            self.withdrawn_now.append(track)

    def _slug_taken(self, slug: str, path: str, commit: Commit) -> None:
        other = self.tracks.get(slug)
        if other is not None and other.live and other.path != path:
            raise SourceError(
                f"commit {commit.sha[:12]}: {other.path} and {path} both map to policy "
                f"{slug!r} (slugs are lower-case); rename or remove one"
            )

    def _add(self, change: Change, commit: Commit) -> None:
        slug = slug_for_path(change.path, self.source)
        self._slug_taken(slug, change.path, commit)
        former = self._former(slug, change, commit)
        if former is not None:  # a rename git could not pair, declared in front matter
            self._rename(former, slug, commit, f"{change.path} continues {former.slug!r}")
            if any(t is former for t in self.withdrawn_now):
                former.gaps.pop()  # deleted and renamed in one commit: never gone
            elif former.gaps and former.gaps[-1].restored is None:
                former.gaps[-1] = replace(former.gaps[-1], restored=commit.committed)
            former.path, former.live = change.path, True
            self.live[change.path] = former
            self._content(former, change, commit)
            return
        # A policy deleted earlier and added again continues its numbering.
        track = self.tracks.get(slug) or Track(slug, change.path)
        if not track.live and track.gaps and track.gaps[-1].restored is None:
            track.gaps[-1] = replace(track.gaps[-1], restored=commit.committed)
        track.path, track.live = change.path, True
        self.tracks[slug] = track
        self.live[change.path] = track
        self._content(track, change, commit)

    def _move(self, track: Track, change: Change, commit: Commit) -> None:
        slug = slug_for_path(change.path, self.source)
        if slug != track.slug:
            self._slug_taken(slug, change.path, commit)
            self._rename(track, slug, commit, f"renames {change.old_path} to {change.path}")
        track.path, track.live = change.path, True
        self.live[change.path] = track
        self._content(track, change, commit)

    def _rename(self, track: Track, slug: str, commit: Commit, what: str) -> None:
        """``track`` takes ``slug``, its old slug becoming an alias."""
        if slug == track.slug:
            return
        if slug in self.tracks:
            raise SourceError(
                f"commit {commit.sha[:12]}: {what}, but {slug!r} is a withdrawn policy with "
                "its own versions; pick another name for the file"
            )
        del self.tracks[track.slug]
        if track.slug not in track.aliases:
            track.aliases.append(track.slug)
        if slug in track.aliases:
            track.aliases.remove(slug)
        track.slug = slug
        self.tracks[slug] = track

    def _former(self, slug: str, change: Change, commit: Commit) -> Track | None:
        """The withdrawn policy an added file's ``formerly:`` says it continues, if any."""
        if change.blob is None:
            return None
        where = f"{change.path} at commit {commit.sha[:12]}"
        parsed = parse_source(
            self.blobs[change.blob], path=change.path, source=self.source, where=where
        )
        found: Track | None = None
        for name in former_slugs(parsed.settings.extra, where=where):
            target = self.tracks.get(name) or next(
                (t for t in self.tracks.values() if name in t.aliases), None
            )
            if name == slug or (target is not None and target.path == change.path):
                raise SourceError(f"{where}: 'formerly' names {name!r}, this policy itself")
            if target is None:
                raise SourceError(
                    f"{where}: 'formerly' names {name!r}, which no policy had before this "
                    f"commit; fix the slug (known: {', '.join(sorted(self.tracks)) or 'none'})"
                )
            if target.live:
                back = target.settings.extra if target.settings else {}
                if slug in former_slugs(back, where=where):
                    raise SourceError(
                        f"{where}: 'formerly' names {name!r}, whose file {target.path} says it "
                        f"was formerly {slug!r}: a cycle; keep the one that is true"
                    )
                raise SourceError(
                    f"{where}: 'formerly' names {name!r}, which is still a policy here "
                    f"({target.path}); delete that file in the same commit or drop 'formerly'"
                )
            if found is not None and target is not found:
                raise SourceError(
                    f"{where}: 'formerly' names {found.slug!r} and {name!r}, two different "
                    "policies; a policy continues one of them"
                )
            found = target
        return found

    def _content(self, track: Track, change: Change, commit: Commit) -> None:
        if change.blob is None or change.blob == track.blob:
            return
        where = f"{change.path} at commit {commit.sha[:12]}"
        parsed = parse_source(
            self.blobs[change.blob], path=change.path, source=self.source, where=where
        )
        late = [
            name
            for name in former_slugs(parsed.settings.extra, where=where)
            if name != track.slug and name not in track.aliases
        ]
        if late:
            raise SourceError(
                f"{where}: 'formerly' names {late[0]!r}, but this file was added by an earlier "
                "commit: a rename git cannot pair is declared in the commit that adds the file"
            )
        track.blob, track.settings = change.blob, parsed.settings
        binding = self._binding(track, parsed, commit)
        if parsed.text == track.text and binding == track.binding:
            return  # bookkeeping front matter only: no new version
        track.versions.append(
            Pending(
                slug=track.slug,
                aliases=tuple(track.aliases),
                number=len(track.versions) + 1,
                commit=commit,
                path=change.path,
                title=parsed.settings.title,
                text=parsed.text,
                previous=track.text,
                notice_days=parsed.settings.notice_days,
                binding=binding,
            )
        )
        track.text, track.binding = parsed.text, binding

    def _binding(self, track: Track, parsed: Source, commit: Commit) -> object:
        """What a version is bound to besides its text; a policy: nothing."""
        return None

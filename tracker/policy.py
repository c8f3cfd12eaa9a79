"""Pure domain types and rules: policies, versions, significance, trailers, front matter.

Nothing here touches git, the network or a database.

Text normalisation (what a version's SHA-256 covers)
-----------------------------------------------------
The *normalised text* of a version is the Markdown a reader sees, as UTF-8:

* the front matter block (``---`` … ``---``) is removed;
* a UTF-8 byte-order mark is removed, CRLF and CR line endings become LF;
* trailing whitespace at line ends is kept (it is Markdown), leading and
  trailing blank lines of the body are removed;
* the title from the front matter is prepended as ``# <title>`` followed by one
  blank line;
* the text ends with exactly one LF.

``Version.text`` *is* the normalised text, so ``sha256(version.text.encode("utf-8"))``
equals ``version.sha256``: anyone holding the text can check the hash.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import yaml

from tracker.errors import DeclarationError, NotFound, SourceError, TrackerError
from tracker.languages import DEFAULT_LANGUAGE, LanguageError, canonical_tag, split_translation_path
from tracker.timeline import Timeline, default_effective, in_force, timeline


class Significance(StrEnum):
    """How much a version matters to the people bound by it."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: str, *, where: str) -> Significance:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise DeclarationError(
                f"{where}: unknown significance {value.strip()!r}; use major, minor or patch"
            ) from None


_RANK = {Significance.PATCH: 0, Significance.MINOR: 1, Significance.MAJOR: 2}


def highest(values: list[Significance]) -> Significance | None:
    return max(values, key=lambda s: s.rank) if values else None


class SignificanceSource(StrEnum):
    DECLARED = "declared"
    CLASSIFIED = "classified"


# ---------------------------------------------------------------------------
# Slugs and paths


def slug_for_path(path: str, source: str) -> str:
    """``policy/legal/terms.md`` → ``legal/terms`` (``source`` is the folder, e.g. ``policy``)."""
    prefix = source.strip("/") + "/"
    if not path.startswith(prefix) or not path.endswith(".md"):
        raise ValueError(f"{path} is not a policy under {source}/")
    return path[len(prefix) : -len(".md")].lower()


def is_policy_path(path: str, source: str) -> bool:
    """A Markdown file under ``source`` that is no translation (``privacy.de.md`` is one)."""
    return (
        split_translation_path(path, source) is None
        and path.startswith(source.strip("/") + "/")
        and path.endswith(".md")
    )


# ---------------------------------------------------------------------------
# Front matter

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)

#: Front matter keys that change a version (the title); every other key is bookkeeping.
TEXT_KEYS = frozenset({"title"})


@dataclass(frozen=True)
class PolicySettings:
    """Policy-level settings from front matter."""

    title: str
    acceptance_required: bool = True
    notice_days: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


def decode_source(raw: bytes, *, where: str) -> str:
    """Decode a policy file as UTF-8 with LF line endings."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{where}: not valid UTF-8 (byte {exc.start}); save the file as UTF-8"
        ) from None
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def split_front_matter(text: str, *, where: str) -> tuple[dict[str, Any], str]:
    """Return (front matter mapping, body). ``text`` must already be decoded."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = copy.deepcopy(_load_yaml(match.group(1) or "")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SourceError(f"{where}:{line} malformed front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise SourceError(f"{where}: front matter must be a mapping of keys to values")
    return meta, text[match.end() :]


@functools.lru_cache(maxsize=512)
def _load_yaml(block: str) -> Any:
    # Front matter rarely changes between versions: a history of thousands of versions
    # parses a handful of distinct blocks. Callers get a deep copy (see split_front_matter).
    return yaml.safe_load(block)


def policy_settings(meta: Mapping[str, Any], *, slug: str, where: str) -> PolicySettings:
    """Validate front matter into settings; the title defaults to the slug's last part."""
    title = meta.get("title", slug.rsplit("/", 1)[-1].replace("-", " ").title())
    if not isinstance(title, str) or not title.strip():
        raise SourceError(f"{where}: front matter 'title' must be a non-empty string")
    required = meta.get("acceptance_required", True)
    if not isinstance(required, bool):
        raise SourceError(f"{where}: front matter 'acceptance_required' must be true or false")
    notice_days = meta.get("notice_days", 0)
    if isinstance(notice_days, bool) or not isinstance(notice_days, int) or notice_days < 0:
        raise SourceError(f"{where}: front matter 'notice_days' must be a whole number ≥ 0")
    extra = {
        k: v for k, v in meta.items() if k not in {"title", "acceptance_required", "notice_days"}
    }
    return PolicySettings(title.strip(), required, notice_days, extra)


def normalise_text(title: str, body: str) -> str:
    """The normalised text (see the module docstring) of a title and a decoded body."""
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    body = body.strip("\n")
    return f"# {title.strip()}\n\n{body}\n" if body else f"# {title.strip()}\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Declarations (git trailers)

TRAILER_CHANGE = "policy-change"
TRAILER_EFFECTIVE = "policy-effective"
TRAILER_SUMMARY = "policy-summary"
_TRAILER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_trailers(message: str) -> list[tuple[str, str]]:
    """The trailers of a commit message: its last paragraph, if every line is ``Key: value``.

    Continuation lines (starting with whitespace) fold into the previous value, as git does.
    """
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return []
    trailers: list[tuple[str, str]] = []
    for line in paragraphs[-1].splitlines():
        if line[:1] in (" ", "\t") and trailers:
            key, value = trailers[-1]
            trailers[-1] = (key, f"{value} {line.strip()}")
            continue
        match = _TRAILER_LINE.match(line)
        if not match:
            return []
        trailers.append((match.group(1).lower(), match.group(2).strip()))
    return trailers


def parse_date(value: str, *, where: str) -> date:
    value = value.strip()
    if not _DATE.match(value):
        raise DeclarationError(f"{where}: malformed date {value!r}; use YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DeclarationError(f"{where}: malformed date {value!r}; no such day") from None


@dataclass(frozen=True)
class Declaration:
    """What an editor declared for a commit: per-policy significance, effective date, summary.

    ``significance`` maps a slug to its level; the key ``"*"`` applies to every policy the
    commit changes. ``effective_from`` names the commit that declared the effective date,
    so that a conflict can name both commits.
    """

    significance: Mapping[str, Significance] = field(default_factory=dict)
    effective: date | None = None
    effective_from: str | None = None
    summary: str | None = None

    @property
    def empty(self) -> bool:
        return not self.significance and self.effective is None and self.summary is None

    def significance_for(self, slug: str, aliases: tuple[str, ...] = ()) -> Significance | None:
        for key in (slug, *aliases):
            if key in self.significance:
                return self.significance[key]
        return self.significance.get("*")

    @classmethod
    def from_message(cls, message: str, *, commit: str) -> Declaration:
        """Parse the ``Policy-*`` trailers of one commit message."""
        where = f"commit {commit[:12]}"
        significance: dict[str, Significance] = {}
        effective: date | None = None
        summary: str | None = None
        for key, value in parse_trailers(message):
            if key == TRAILER_CHANGE:
                for part in (p.strip() for p in value.split(",")):
                    if not part:
                        continue
                    scope, _, level = part.rpartition("=")
                    scope = scope.strip().lower() or "*"
                    new = Significance.parse(level, where=f"{where}: Policy-Change")
                    old = significance.get(scope)
                    if old is None or new.rank > old.rank:
                        significance[scope] = new
            elif key == TRAILER_EFFECTIVE:
                effective = parse_date(value, where=f"{where}: Policy-Effective")
            elif key == TRAILER_SUMMARY:
                summary = value.strip() or None
        return cls(significance, effective, commit if effective else None, summary)

    def merge(self, other: Declaration) -> Declaration:
        """Combine with a commit brought in by a merge: highest significance wins."""
        significance = dict(self.significance)
        for scope, level in other.significance.items():
            old = significance.get(scope)
            if old is None or level.rank > old.rank:
                significance[scope] = level
        effective, effective_from = self.effective, self.effective_from
        if other.effective is not None:
            if effective is not None and effective != other.effective:
                raise DeclarationError(
                    f"conflicting Policy-Effective dates: {effective} in commit "
                    f"{(effective_from or '?')[:12]} and {other.effective} in commit "
                    f"{(other.effective_from or '?')[:12]}; declare one date"
                )
            effective, effective_from = other.effective, other.effective_from
        return Declaration(significance, effective, effective_from, self.summary or other.summary)


def effective_date(
    published: datetime,
    significance: Significance,
    declared: date | None,
    notice_days: int,
    *,
    where: str,
    previous: date | None = None,
) -> date:
    """The date a version starts to govern (see PRODUCT.md: effective date).

    Without a declared date, no earlier than ``previous`` (the effective date of the
    version it is built on): see :func:`tracker.timeline.default_effective`.
    """
    published_day = published.date()
    if declared is not None:
        if declared < published_day:
            raise DeclarationError(
                f"{where}: Policy-Effective {declared} is before the publication date "
                f"{published_day}; an effective date cannot be in the past"
            )
        return declared
    natural = published_day
    if significance is Significance.MAJOR and notice_days:
        natural = published_day + timedelta(days=notice_days)
    return default_effective(natural, previous)


# ---------------------------------------------------------------------------
# Versions and policies


@dataclass(frozen=True)
class Version:
    """A published state of a policy. Never changes once published."""

    policy: str
    number: int
    commit: str
    published: datetime  # the first-parent commit's committer date, UTC
    author: str
    title: str
    text: str  # the normalised text; sha256 covers exactly this
    sha256: str
    significance: Significance
    significance_source: SignificanceSource
    summary: str
    effective: date
    path: str = ""
    #: Whether ``effective`` was declared (``Policy-Effective``) rather than derived.
    effective_declared: bool = False
    #: For a translation's version: the source version it translates (None for a source).
    translates: int | None = None

    def is_effective(self, on: date) -> bool:
        return self.effective <= on

    @property
    def short_sha256(self) -> str:
        return self.sha256[:12]


@dataclass(frozen=True)
class Draft:
    """Uncommitted edits to a policy in the working tree: visible, never a version."""

    policy: str
    path: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Gap:
    """A time the policy's file was gone: deleted after version ``after`` on ``withdrawn``,
    added again on ``restored`` (None: still withdrawn)."""

    after: int
    withdrawn: datetime
    restored: datetime | None = None
    #: The commit that deleted the file.
    commit: str = ""
    #: A translation's file stayed but its source was withdrawn (by ``commit``), or the
    #: file changed (at ``commit``) while its source was gone: withdrawn with its source.
    source_gone: bool = False


@dataclass(frozen=True)
class Policy:
    """One document and its versions, oldest first."""

    slug: str
    path: str
    settings: PolicySettings
    versions: tuple[Version, ...]
    aliases: tuple[str, ...] = ()
    withdrawn: bool = False
    draft: Draft | None = None
    gaps: tuple[Gap, ...] = ()
    #: A translation's BCP 47 tag (its versions translate the policy ``slug``); None: a source.
    language: str | None = None

    @property
    def title(self) -> str:
        return self.versions[-1].title if self.versions else self.settings.title

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> Version:
        return numbered(self.slug, self.versions, number)

    def timeline(self, on: date) -> Timeline:
        """Every version's state on a day (see :mod:`tracker.timeline`)."""
        return timeline([v.effective for v in self.versions], on)

    def current(self, on: date) -> Version | None:
        """The version in force on a day: the latest whose effective date has come."""
        number = in_force([v.effective for v in self.versions], on)
        return self.versions[number - 1] if number is not None else None

    def upcoming(self, on: date) -> tuple[Version, ...]:
        """The versions that will take effect after ``on``, in that order (not those a
        later version overtakes: they never take effect)."""
        return tuple(self.versions[n - 1] for n in self.timeline(on).upcoming)

    def text_of(self, which: str | None) -> tuple[str, str]:
        """(label, text) of a version number (``3`` or ``v3``), ``draft``, or ``None``: the
        latest version, else the draft when there is no version yet."""
        if which == "draft":
            if self.draft is None:
                raise TrackerError(f"policy {self.slug} has no draft (no uncommitted edits)")
            return "draft", self.draft.text
        if which is None:
            if self.latest is None:
                if self.draft is not None:
                    return "draft", self.draft.text
                raise TrackerError(f"policy {self.slug} has no versions yet")
            return f"v{self.latest.number}", self.latest.text
        number = which.removeprefix("v")
        if not number.isdigit():
            raise TrackerError(f"{which!r} is not a version number; use e.g. 3, v3 or draft")
        version = self.version(int(number))
        return f"v{version.number}", version.text

    def text_on(self, which: str | None, on: date) -> tuple[str, str]:
        """Like ``text_of``, but ``None`` is the version in force ``on`` (the latest when
        none is in force yet) and ``latest`` the newest version, which may be upcoming."""
        if which is None:
            current = self.current(on)
            which = None if current is None else str(current.number)
        elif which == "latest":
            which = None
        return self.text_of(which)


def source_language(policy: Policy) -> str:
    """The language of a policy's source text (front matter ``language``, default ``en``):
    what the site labels it with and the tracker serves a reader asking for that language."""
    value = policy.settings.extra.get("language", DEFAULT_LANGUAGE)
    try:
        return canonical_tag(str(value))
    except LanguageError as exc:
        raise SourceError(f"{policy.path}: front matter 'language': {exc}") from None


@dataclass(frozen=True)
class Catalog:
    """Every policy of a repository at a ref, with drafts from the working tree."""

    policies: Mapping[str, Policy]
    head: str  # commit SHA of the ref
    # each version's commit → the Policy-Change scopes it declared (merges: with what they
    # bring in); what the pre-merge check compares with the policies that exist
    declared_scopes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # each policy's translations by language (see tracker.history.translations)
    translations: Mapping[str, Mapping[str, Policy]] = field(default_factory=dict)
    # each commit's Policy-Translation-Pending languages (merges: with what they bring in)
    translation_pending: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def unknown_scopes(self, commit: str) -> list[str]:
        """Scopes that ``commit``'s Policy-Change trailers name but that are no policy."""
        known = {"*", *self.policies}
        for policy in self.policies.values():
            known.update(policy.aliases)
        return sorted(self.declared_scopes.get(commit, frozenset()) - known)

    def get(self, slug: str) -> Policy:
        slug = slug.strip("/").lower()
        if slug in self.policies:
            return self.policies[slug]
        for policy in self.policies.values():
            if slug in policy.aliases:
                return policy
        known = ", ".join(sorted(self.policies)) or "none"
        raise NotFound(f"unknown policy {slug!r} (known: {known})")

    def __iter__(self) -> Any:
        return iter(self.policies.values())


_V = TypeVar("_V")


def numbered(slug: str, versions: Sequence[_V], number: int, code: str | None = None) -> _V:
    """Version ``number`` of a policy whose versions are numbered 1..n in order (the git
    history's and the store's catalog alike); NotFound (with ``code``) naming the range."""
    if 1 <= number <= len(versions):
        return versions[number - 1]
    raise NotFound(
        f"policy {slug} has no version {number} (it has 1–{len(versions)})"
        if versions
        else f"policy {slug} has no versions yet",
        code=code,
    )

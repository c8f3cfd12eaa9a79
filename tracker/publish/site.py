"""What the site contains: the pages of each policy, their addresses and their banners.

Pure functions of a :class:`~tracker.policy.Catalog` and the day the site is built for;
nothing here touches MkDocs, git or the file system.

Addresses (``src_uri`` of the generated Markdown pages; MkDocs turns ``privacy.md`` into
``/privacy/`` and ``privacy/v2.md`` into ``/privacy/v2/``):

=====================================  ==========================================
``<slug>.md``                          the current page (the version in force)
``<slug>/v<N>.md``                     every version, at a permanent address
``<slug>/changes/<A>-<B>.md``          the redline from version A to version B
``<slug>/history.md``                  the table of versions
``<slug>/draft.md``                    an unpublished draft (only with drafts on)
``<slug>/draft/changes.md``            the redline from the latest version to the draft
=====================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from tracker.history.translations import freshness
from tracker.languages import Staleness, english_name, native_name
from tracker.policy import Catalog, Draft, Policy, Significance, Version, source_language
from tracker.timeline import Timeline, VersionState

NOTIFIED = frozenset({Significance.MAJOR, Significance.MINOR})


def current_uri(slug: str) -> str:
    return f"{slug}.md"


def version_uri(slug: str, number: int) -> str:
    return f"{slug}/v{number}.md"


def redline_uri(slug: str, old: int, new: int) -> str:
    return f"{slug}/changes/{old}-{new}.md"


def history_uri(slug: str) -> str:
    return f"{slug}/history.md"


def draft_uri(slug: str) -> str:
    return f"{slug}/draft.md"


def draft_changes_uri(slug: str) -> str:
    return f"{slug}/draft/changes.md"


#: Where a version stands on the day the site is built for (one rule: tracker.timeline).
Status = VersionState


class Kind(StrEnum):
    INDEX = "index"
    CURRENT = "current"
    VERSION = "version"
    REDLINE = "redline"
    HISTORY = "history"
    DRAFT = "draft"
    DRAFT_CHANGES = "draft-changes"


@dataclass(frozen=True)
class PolicyView:
    """A policy as the site shows it on one day."""

    policy: Policy
    as_of: date
    timeline: Timeline
    current: Version | None
    upcoming: tuple[Version, ...]  # in the order they take effect; never an overtaken one
    draft: Draft | None
    #: The languages the policy is available in, the language its source is written in
    #: (front matter ``language``), and for a translation: the source's view and how current
    #: it is.
    alternates: tuple[Alternate, ...] = ()
    source_language: str = "en"
    source: PolicyView | None = None
    freshness: Staleness | None = None

    @property
    def language(self) -> str | None:
        """A translation's language; None for a source."""
        return self.policy.language

    @property
    def slug(self) -> str:
        return self.policy.slug

    @property
    def title(self) -> str:
        return self.policy.title

    @property
    def latest(self) -> Version | None:
        return self.policy.latest

    @property
    def shown(self) -> Version | None:
        """The version on the current page: the one in force, else the first upcoming one."""
        return self.current or (self.upcoming[0] if self.upcoming else None)

    def status(self, version: Version) -> Status:
        return self.timeline.state(version.number)

    def overtaken_by(self, version: Version) -> Version | None:
        """The version that took effect first, for a version that never took effect."""
        number = self.timeline.overtaken_by(version.number)
        return self.policy.versions[number - 1] if number is not None else None

    def previous(self, version: Version) -> Version | None:
        return self.policy.versions[version.number - 2] if version.number > 1 else None

    def replaced(self, version: Version) -> Version | None:
        """The version ``version`` replaces when it takes effect: the latest earlier one
        that is not overtaken (an overtaken one never governed)."""
        for number in range(version.number - 1, 0, -1):
            if self.timeline.state(number) is not Status.OVERTAKEN:
                return self.policy.versions[number - 1]
        return None

    def significance_since(self, version: Version) -> Significance:
        """How much changes when ``version`` takes effect: the highest significance of it
        and of the overtaken versions whose changes come into force with it."""
        before = self.replaced(version)
        low = before.number if before is not None else 0
        changes = self.policy.versions[low : version.number]
        return max((v.significance for v in changes), key=lambda s: s.rank)

    def redline_pairs(self) -> list[tuple[int, int]]:
        """Every consecutive pair, every version to the latest and to the one in force,
        and the one in force to each upcoming version; oldest first."""
        numbers = [v.number for v in self.policy.versions]
        pairs = {(a, a + 1) for a in numbers[:-1]}
        if numbers:
            pairs |= {(a, numbers[-1]) for a in numbers[:-1]}
        if self.current is not None:
            now = self.current.number
            pairs |= {(a, now) for a in numbers if a < now}
            pairs |= {(now, u.number) for u in self.upcoming}
        return sorted(pairs)

    def recently_changed(self, banner_days: int) -> bool:
        """Whether the version in force gets the change banner: a major or minor change
        (not the first version) published (or, after a notice, effective) within ``banner_days``."""
        version = self.current
        if version is None or version.number == 1:
            return False
        if self.significance_since(version) not in NOTIFIED:
            return False
        since = max(version.published.date(), version.effective)
        return 0 <= (self.as_of - since).days < banner_days


def view(policy: Policy, as_of: date, *, drafts: bool) -> PolicyView:
    line = policy.timeline(as_of)
    versions = policy.versions
    return PolicyView(
        policy=policy,
        as_of=as_of,
        timeline=line,
        current=versions[line.current - 1] if line.current is not None else None,
        upcoming=tuple(versions[n - 1] for n in line.upcoming),
        draft=policy.draft if drafts else None,
    )


@dataclass(frozen=True)
class PageSpec:
    """One generated page: what it shows and where."""

    kind: Kind
    src_uri: str
    title: str
    view: PolicyView | None = None
    version: Version | None = None  # the version shown, or the new side of a redline
    base: Version | None = None  # the old side of a redline
    in_nav: bool = False
    searchable: bool = False


@dataclass(frozen=True)
class SitePlan:
    """Every policy as shown on one day, and every page that shows them."""

    as_of: date
    head: str
    views: tuple[PolicyView, ...]
    pages: dict[str, PageSpec] = field(default_factory=dict)
    #: A view of each translation (below), pages under /<lang>/<slug>/
    translated: tuple[PolicyView, ...] = ()

    def __iter__(self) -> Iterator[PageSpec]:
        return iter(self.pages.values())


def plan(catalog: Catalog, as_of: date, *, drafts: bool, index_page: str) -> SitePlan:
    """The pages of the site for ``catalog`` on ``as_of``."""
    views = tuple(
        view(policy, as_of, drafts=drafts)
        for policy in sorted(catalog, key=lambda p: (p.title.lower(), p.slug))
        if policy.versions or (drafts and policy.draft is not None)
    )
    views, translated = with_translations(views, catalog.translations, as_of)
    site = SitePlan(as_of=as_of, head=catalog.head, views=views, translated=translated)
    site.pages[index_page] = PageSpec(Kind.INDEX, index_page, "Policies", in_nav=True)
    for v in views:
        for spec in _policy_pages(v):
            site.pages[spec.src_uri] = spec
    for v in translated:
        for spec in _policy_pages(v):
            # a translation is not in the navigation (its source is), but search covers it
            site.pages[spec.src_uri] = replace(spec, in_nav=False)
    return site


def _policy_pages(v: PolicyView) -> Iterator[PageSpec]:
    slug, title = v.slug, v.title
    if v.shown is not None:
        yield PageSpec(
            Kind.CURRENT,
            current_uri(slug),
            title,
            v,
            v.shown,
            in_nav=not v.policy.withdrawn,
            searchable=not v.policy.withdrawn,
        )
        yield PageSpec(Kind.HISTORY, history_uri(slug), f"{title}: history", v)
    for version in v.policy.versions:
        yield PageSpec(
            Kind.VERSION, version_uri(slug, version.number), f"{title}, version {version.number}",
            v, version,
        )  # fmt: skip
    versions = v.policy.versions
    for a, b in v.redline_pairs():
        yield PageSpec(
            Kind.REDLINE,
            redline_uri(slug, a, b),
            f"{title}: changes from version {a} to version {b}",
            v,
            versions[b - 1],
            versions[a - 1],
        )
    if v.draft is not None:
        yield PageSpec(Kind.DRAFT, draft_uri(slug), f"{title} (unpublished draft)", v, v.latest)
        yield PageSpec(
            Kind.DRAFT_CHANGES,
            draft_changes_uri(slug),
            f"{title}: changes in the unpublished draft",
            v,
            None,
            v.latest,
        )


# ---------------------------------------------------------------------------
# Translations: pages under /<lang>/<slug>/, not in the navigation or the index (their
# source is), but searchable; the languages a page is available in (the switcher, hreflang).


@dataclass(frozen=True)
class Alternate:
    """One language a policy is available in."""

    language: str
    slug: str  # the slug of its pages (``privacy``, ``de/privacy``)
    source: bool

    @property
    def name(self) -> str:
        return native_name(self.language)

    @property
    def uri(self) -> str:
        return current_uri(self.slug)


def translated_slug(language: str, slug: str) -> str:
    return f"{language}/{slug}"


def with_translations(
    views: tuple[PolicyView, ...],
    translations: Mapping[str, Mapping[str, Policy]],
    as_of: date,
) -> tuple[tuple[PolicyView, ...], tuple[PolicyView, ...]]:
    """(the source views with their languages, a view of each translation)."""
    sources: list[PolicyView] = []
    translated: list[PolicyView] = []
    for v in views:
        found = translations.get(v.slug, {})
        language = source_language(v.policy)
        if not found or not v.policy.versions:
            sources.append(replace(v, source_language=language))
            continue
        # a withdrawn translation keeps its pages (permanent addresses) but is offered
        # nowhere: not in the switcher, not in hreflang
        live = sorted(tag for tag, t in found.items() if t.versions and not t.withdrawn)
        alternates = (
            (
                Alternate(language, v.slug, True),
                *(Alternate(tag, translated_slug(tag, v.slug), False) for tag in live),
            )
            if live
            else ()
        )
        sources.append(replace(v, alternates=alternates, source_language=language))
        for tag, translation in sorted(found.items()):
            if not translation.versions:
                continue
            shown = replace(translation, slug=translated_slug(tag, v.slug), aliases=())
            translated.append(
                replace(
                    view(shown, as_of, drafts=False),
                    alternates=alternates if tag in live else (),
                    source=v,
                    source_language=language,
                    freshness=freshness(v.policy, translation, as_of),
                )
            )
    return tuple(sources), tuple(translated)


def source_name(v: PolicyView) -> str:
    """``English``: the language of the text a translation renders, for its banner."""
    return english_name(v.source_language)


def redirects(plan: SitePlan) -> list[tuple[str, str]]:
    """(old address, new address) for every page of a renamed policy under its old slugs,
    so that permanent addresses stay permanent. An old slug now used by another policy
    belongs to that policy."""
    live = {v.slug for v in plan.views}
    moves: list[tuple[str, str]] = []
    for v in plan.views:
        for alias in v.policy.aliases:
            if alias in live or alias == v.slug:
                continue
            for spec in plan.pages.values():
                if spec.view is v and spec.kind not in (Kind.DRAFT, Kind.DRAFT_CHANGES):
                    moves.append((alias + spec.src_uri[len(v.slug) :], spec.src_uri))
    return moves

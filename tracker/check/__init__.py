"""The pre-merge check: what changed in a range of commits, and is it declared honestly?

``policy-tracker check`` runs this on every pull request of a policy repository.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tracker.cache import Cache
from tracker.history import commits_in_range, read_catalog
from tracker.history.links import Resolver
from tracker.history.translations import required_languages
from tracker.policy import Catalog, Policy, Significance, SignificanceSource, Version
from tracker.redline import Classification, Redline, classify, compare
from tracker.redline.cached import cached_classifier


@dataclass(frozen=True)
class ChangeReport:
    """One change to one policy: a new version in the range, or the working-tree draft."""

    policy: str
    label: str  # "v3" or "draft"
    commit: str | None
    redline: Redline
    classification: Classification
    declared: Significance | None
    problems: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())
    language: str | None = None  # a translation's version: its language

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "language": self.language,
            "change": self.label,
            "commit": self.commit,
            "sections": [s.to_dict() for s in self.redline.sections],
            "words_inserted": self.redline.words_inserted,
            "words_deleted": self.redline.words_deleted,
            "suggested": str(self.classification.suggested),
            "reasons": list(self.classification.reasons),
            "declared": str(self.declared) if self.declared else None,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }


def problems_for(declared: Significance | None, verdict: Classification) -> tuple[str, ...]:
    """The rules a change must pass before it may be merged."""
    suggested = verdict.suggested
    if declared is None and suggested is Significance.MAJOR:
        why = f" ({'; '.join(verdict.reasons)})" if verdict.reasons else ""
        return (
            f"undeclared change looks {suggested}{why}; add a 'Policy-Change: <major|minor|patch>' "
            "trailer to the commit message",
        )
    if declared is Significance.PATCH and suggested is Significance.MAJOR:
        return (
            f"declared patch but looks material ({'; '.join(verdict.reasons)}); "
            "declare 'Policy-Change: major' or 'minor' if that is what it is",
        )
    return ()


def _scope_problems(catalog: Catalog, commit: str) -> tuple[str, ...]:
    """A Policy-Change scope naming no policy is a typo that silently declares nothing."""
    unknown = catalog.unknown_scopes(commit)
    if not unknown:
        return ()
    known = ", ".join(sorted(catalog.policies))
    names = ", ".join(repr(u) for u in unknown)
    return (
        f"Policy-Change names {names}, which is no policy here (policies: {known}); "
        "fix the trailer",
    )


def overtaking(policy: Policy, version: Version) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(warnings, problems): ``version`` takes effect before an earlier version that was
    still upcoming when it was published. Its text includes that version's, so that change
    comes into force early and its notice period is cut short; a major version's notice
    period may only be cut by a declared ``Policy-Effective`` date."""
    warnings: list[str] = []
    problems: list[str] = []
    published = version.published.date()
    for earlier in policy.versions[: version.number - 1]:
        if earlier.effective <= published or version.effective >= earlier.effective:
            continue
        skipped = (earlier.effective - version.effective).days
        message = (
            f"v{version.number} takes effect on {version.effective}, before v{earlier.number} "
            f"({earlier.significance}, effective {earlier.effective}), whose text it includes: "
            f"v{earlier.number} never takes effect and its change comes into force {skipped} "
            f"day(s) early, skipping that much of its notice period"
        )
        if earlier.significance is Significance.MAJOR and not version.effective_declared:
            problems.append(
                f"{message}; declare 'Policy-Effective: {version.effective}' to make it "
                f"explicit, or let v{version.number} take effect on {earlier.effective}"
            )
        else:
            warnings.append(message)
    return tuple(warnings), tuple(problems)


def check_changes(
    catalog: Catalog, commits: Collection[str], *, drafts: bool = True
) -> list[ChangeReport]:
    """Report every version made by ``commits`` and, with ``drafts``, every draft."""
    wanted = set(commits)
    reports: list[ChangeReport] = []
    resolver = Resolver(list(catalog), "")
    for policy in catalog:
        previous = ""
        dead: set[str] = set()  # unresolved links of the previous version
        for version in policy.versions:
            now_dead = set(resolver.unresolved(version.text, path=version.path, at=version))
            introduced, dead = sorted(now_dead - dead), now_dead
            if version.commit in wanted:
                redline = compare(previous, version.text)
                verdict = classify(redline)
                declared = (
                    version.significance
                    if version.significance_source is SignificanceSource.DECLARED
                    else None
                )
                warnings, early = overtaking(policy, version)
                late, untranslated = translation_findings(catalog, policy, version)
                reports.append(
                    ChangeReport(
                        policy.slug,
                        f"v{version.number}",
                        version.commit,
                        redline,
                        verdict,
                        declared,
                        problems_for(declared, verdict)
                        + _scope_problems(catalog, version.commit)
                        + tuple(
                            f"links to {target}, which no policy had at this version "
                            f"({policy.slug} v{version.number}, commit {version.commit[:12]}); "
                            "fix the link (archived versions show it as text)"
                            for target in introduced
                        )
                        + early
                        + untranslated,
                        warnings + late,
                    )
                )
            previous = version.text
        reports.extend(_translation_reports(catalog, policy, wanted))
        reports.extend(_withdrawal_reports(catalog, policy, wanted))
        if drafts and policy.draft is not None:
            draft = policy.draft
            redline = compare(previous, draft.text)
            if redline.changed or redline.formatted:
                reports.append(
                    ChangeReport(policy.slug, "draft", None, redline, classify(redline), None)
                )
    return reports


def translation_findings(
    catalog: Catalog, policy: Policy, version: Version
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(warnings, problems): the translations ``version`` leaves behind. A ``major`` version
    that leaves a required translation (``translations_required``) stale fails, unless its
    commit declares ``Policy-Translation-Pending`` for that language; any other translation
    it leaves stale or behind is a warning."""
    translations = catalog.translations.get(policy.slug, {})
    required = required_languages(policy)
    pending = catalog.translation_pending.get(version.commit, frozenset())
    warnings: list[str] = []
    problems: list[str] = []
    for tag in sorted(set(translations) | set(required)):
        translation = translations.get(tag)
        latest = translation.latest if translation is not None else None
        translates = latest.translates if latest is not None else None
        if translates is not None and translates >= version.number:
            continue
        state = "behind" if version.significance is Significance.PATCH else "stale"
        has = f"translates v{translates}" if translates is not None else "does not exist"
        if (
            version.significance is Significance.MAJOR
            and tag in required
            and tag.lower() not in pending
        ):
            problems.append(
                f"v{version.number} is major and leaves the required {tag} translation {state} "
                f"(it {has}); update {_translation_path(policy, tag)} to 'translates: "
                f"{version.number}', or declare 'Policy-Translation-Pending: {tag}'"
            )
        else:
            warnings.append(f"the {tag} translation is {state} after v{version.number} (it {has})")
    return tuple(warnings), tuple(problems)


def _translation_path(policy: Policy, tag: str) -> str:
    return f"{policy.path.removesuffix('.md')}.{tag}.md"


def _translation_reports(
    catalog: Catalog, policy: Policy, wanted: Collection[str]
) -> list[ChangeReport]:
    """A report for each version of a translation made in the range: what it translates."""
    reports: list[ChangeReport] = []
    for tag, translation in sorted(catalog.translations.get(policy.slug, {}).items()):
        previous = ""
        for version in translation.versions:
            if version.commit in wanted:
                redline = compare(previous, version.text)
                latest = policy.latest.number if policy.latest else 0
                behind = (version.translates or 0) < latest
                note = (
                    (f"translates {policy.slug} v{version.translates}; the latest is v{latest}",)
                    if behind
                    else ()
                )
                reports.append(
                    ChangeReport(
                        policy.slug,
                        f"{tag} v{version.number}",
                        version.commit,
                        redline,
                        classify(redline),
                        None,
                        warnings=note,
                        language=tag,
                    )
                )
            previous = version.text
    return reports


_UTC = ZoneInfo("UTC")


def _withdrawal_reports(
    catalog: Catalog, policy: Policy, wanted: Collection[str]
) -> list[ChangeReport]:
    """A report for each translation withdrawn in the range. Deleted with its source, or
    alone, it is fine (a warning: its readers get the source text), unless the language is
    required; a translation file left behind by (or changed after) its source's withdrawal
    fails: it would stay beside a policy that no longer applies."""
    reports: list[ChangeReport] = []
    required = required_languages(policy)
    for tag, translation in sorted(catalog.translations.get(policy.slug, {}).items()):
        for gap in translation.gaps:
            if gap.commit not in wanted:
                continue
            text = translation.versions[gap.after - 1].text if gap.after else ""
            problems: tuple[str, ...] = ()
            warnings: tuple[str, ...] = ()
            with_source = any(g.commit == gap.commit for g in policy.gaps)
            if gap.source_gone:
                problems = (
                    f"{translation.path} stays while {policy.slug} is withdrawn; "
                    "delete it too (a translation of a withdrawn policy is withdrawn with it)",
                )
            elif with_source:
                pass
            elif tag in required:
                problems = (
                    f"the required {tag} translation is withdrawn; restore {translation.path}, "
                    f"or take {tag} out of translations_required",
                )
            else:
                warnings = (f"the {tag} translation is withdrawn; its readers get the source text",)
            redline = compare(text, "")
            reports.append(
                ChangeReport(
                    policy.slug,
                    f"{tag} withdrawn",
                    gap.commit,
                    redline,
                    classify(redline),
                    None,
                    problems,
                    warnings,
                    language=tag,
                )
            )
    return reports


def check_repository(
    repository: Path,
    *,
    source: str,
    ref: str,
    base: str | None,
    drafts: bool = True,
    zone: ZoneInfo | None = None,
) -> list[ChangeReport]:
    """``check_changes`` over the versions made after ``base`` up to ``ref`` (without a
    base: by ``ref``'s last commit) and, with ``drafts``, the working tree's drafts."""
    commits = commits_in_range(repository, base, ref)
    classify = cached_classifier(Cache.for_repository(repository))
    catalog = read_catalog(
        repository, source=source, ref=ref, drafts=drafts, classify=classify, zone=zone or _UTC
    )
    return check_changes(catalog, commits, drafts=drafts)


def failed(reports: Iterable[ChangeReport]) -> bool:
    return any(not r.ok for r in reports)

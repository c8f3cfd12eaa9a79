"""Read a repository's policies and their versions (see :mod:`tracker.history`).

How a version gets its significance
-----------------------------------
* Declared: a ``Policy-Change`` trailer of the commit (for a merge commit: of the merge or of
  any commit it brings in; the highest wins) that names the policy or applies to all.
* Otherwise classified: the suggestion of the classifier the caller hands in (the redline
  classifier, ``tracker.redline.suggest``) for the change from the previous version. The
  first version of a policy has nothing to compare with: undeclared, it is ``major`` (new
  text that people have not accepted), source ``classified``.

A policy's ``notice_days`` (front matter at the commit) defers an undeclared major *change*;
the first version has nothing to give notice of, so it is effective when published.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from tracker.history.drafts import attach_drafts
from tracker.history.gitio import (
    Commit,
    brought_in,
    commit_graph,
    first_parent,
    first_parent_log,
    first_parent_range,
    open_repository,
    read_blobs,
    refuse_shallow,
    resolve,
)
from tracker.history.translations import TranslationWalk, pending_trailer, read_translations
from tracker.history.walk import Pending, Track, Walk
from tracker.languages import split_translation_path
from tracker.policy import (
    Catalog,
    Declaration,
    Policy,
    Significance,
    SignificanceSource,
    Version,
    effective_date,
    is_policy_path,
    parse_trailers,
)

_UTC = ZoneInfo("UTC")

#: Suggests the significance of an undeclared change from the previous text to the new one.
Classifier = Callable[[str, str], Significance]


def read_catalog(
    repository: str | Path,
    *,
    classify: Classifier,
    source: str = "policy",
    ref: str = "HEAD",
    drafts: bool = True,
    zone: ZoneInfo = _UTC,
) -> Catalog:
    """Every policy under ``source`` with its versions on the first-parent history of ``ref``;
    ``classify`` gives an undeclared change its significance. A version's publication day,
    and an effective date worked out from it, are days in ``zone`` (the publisher's time
    zone); its ``published`` instant stays UTC."""
    source = source.strip("/")
    with open_repository(repository) as repo:
        head = resolve(repo, ref)
        refuse_shallow(repo)
        commits = first_parent_log(repo, head, source)
        merges = {commit.sha for commit in commits if commit.is_merge}
        merged: dict[str, list[tuple[str, str]]] = {}
        if merges:
            graph = commit_graph(repo, head)
            for sha, shas in brought_in(graph, head, merges).items():
                merged[sha] = [(other, graph[other][1]) for other in shas]
        blobs = read_blobs(
            repo,
            (
                change.blob
                for commit in commits
                for change in commit.changes
                if change.blob is not None and _is_source(change.path, source)
            ),
        )
        walk, translated = Walk(source, blobs), TranslationWalk(source, blobs)
        for commit in commits:
            walk.apply(commit)
            translated.apply(commit)
        del blobs
        declarations = _Declarations(merged)
        policies = {
            track.slug: _policy(track, declarations, classify, zone)
            for track in sorted(walk.tracks.values(), key=_slug)
        }
        translations = read_translations(translated, policies, commits, zone)
        pending = {
            commit.sha: pending_trailer(
                [commit.message, *(m for _, m in merged.get(commit.sha, ()))]
            )
            for commit in commits
        }
        if drafts and not repo.bare:
            policies = attach_drafts(repo, source, policies)
    scopes = {sha: frozenset(d.significance) for sha, d in declarations.cache.items()}
    pending = {sha: tags for sha, tags in pending.items() if tags}
    return Catalog(policies, head, scopes, translations, pending)


def _is_source(path: str, source: str) -> bool:
    """A policy or a translation file."""
    return is_policy_path(path, source) or split_translation_path(path, source) is not None


def commits_in_range(repository: str | Path, base: str | None, ref: str = "HEAD") -> list[str]:
    """First-parent commits of ``ref`` that ``base`` does not reach, oldest first.

    Without ``base``: the commit ``ref`` names alone (all of them are new when it is the
    repository's first commit).
    """
    with open_repository(repository) as repo:
        head = resolve(repo, ref)
        refuse_shallow(repo)
        start = resolve(repo, base) if base is not None else first_parent(repo, head)
        return first_parent_range(repo, start, head)


def _slug(track: Track) -> str:
    return track.slug


def _policy(
    track: Track, declarations: _Declarations, classify: Classifier, zone: ZoneInfo
) -> Policy:
    assert track.settings is not None  # every track has had content
    versions: list[Version] = []
    for pending in track.versions:
        previous = versions[-1].effective if versions else None
        versions.append(_version(pending, declarations, classify, previous, zone))
    return Policy(
        slug=track.slug,
        path=track.path,
        settings=track.settings,
        versions=tuple(versions),
        aliases=tuple(track.aliases),
        withdrawn=not track.live,
        gaps=tuple(track.gaps),
    )


def _version(
    pending: Pending,
    declarations: _Declarations,
    classify: Classifier,
    previous: date | None,
    zone: ZoneInfo,
) -> Version:
    commit = pending.commit
    declaration = declarations.of(commit)
    declared = declaration.significance_for(pending.slug, pending.aliases)
    if declared is not None:
        significance, source = declared, SignificanceSource.DECLARED
    elif pending.previous is None:
        significance, source = Significance.MAJOR, SignificanceSource.CLASSIFIED
    else:
        significance = classify(pending.previous, pending.text)
        source = SignificanceSource.CLASSIFIED
    effective = effective_date(
        commit.committed.astimezone(zone),  # the publication day is the publisher's
        significance,
        declaration.effective,
        pending.notice_days if pending.previous is not None else 0,
        where=f"commit {commit.sha[:12]} ({pending.path})",
        previous=previous,
    )
    return pending.version(
        pending.slug,
        significance,
        source,
        declaration.summary or _public_summary(commit, pending),
        effective,
        effective_declared=declaration.effective is not None,
    )


class _Declarations:
    """Each commit's declaration, parsed once; a merge's includes the commits it brings in."""

    def __init__(self, merged: dict[str, list[tuple[str, str]]]):
        self.merged = merged
        self.cache: dict[str, Declaration] = {}

    def of(self, commit: Commit) -> Declaration:
        if commit.sha not in self.cache:
            declaration = Declaration.from_message(commit.message, commit=commit.sha)
            for sha, message in self.merged.get(commit.sha, ()):
                declaration = declaration.merge(Declaration.from_message(message, commit=sha))
            self.cache[commit.sha] = declaration
        return self.cache[commit.sha]


def _public_summary(commit: Commit, pending: Pending) -> str:
    """The summary readers see without a Policy-Summary: the commit's subject, except that a
    first version's subject naming the file ("Add policy/privacy.md") says nothing to them."""
    subject = _summary(commit)
    name = pending.path.rsplit("/", 1)[-1]
    if pending.previous is None and (not subject or name in subject):
        return "First published version."
    return subject


def _summary(commit: Commit) -> str:
    """The subject; for a merge, the first line of the body (hosts put the PR title there)."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", commit.message.strip()) if p.strip()]
    if not paragraphs:
        return ""
    subject = " ".join(paragraphs[0].split())
    if commit.is_merge:
        body = paragraphs[1:]
        if body and parse_trailers(commit.message):
            body = body[:-1]
        if body:
            return body[0].splitlines()[0].strip()
    return subject

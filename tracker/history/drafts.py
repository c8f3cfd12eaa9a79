"""Drafts: uncommitted edits in the working tree, compared with what the ref publishes.

A policy file whose title or body differs from its latest version (or that the ref does not
have at all, tracked or not, unless git ignores it) gets a :class:`~tracker.policy.Draft`.
A file deleted or renamed in the working tree but not yet committed is not a draft: the
committed policy stays as it is until the change is committed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import git

from tracker.errors import SourceError
from tracker.history.gitio import worktree_files
from tracker.history.walk import parse_source
from tracker.policy import Draft, Policy, is_policy_path, sha256_text, slug_for_path


def attach_drafts(repo: git.Repo, source: str, policies: dict[str, Policy]) -> dict[str, Policy]:
    """``policies`` with drafts attached, plus new policies that exist only in the working tree."""
    root = Path(str(repo.working_tree_dir))
    result = dict(policies)
    seen: dict[str, str] = {}
    for path in worktree_files(repo, source):
        file = root / path
        if not is_policy_path(path, source) or file.is_symlink() or not file.is_file():
            continue
        slug = slug_for_path(path, source)
        if slug in seen:
            raise SourceError(
                f"{seen[slug]} and {path} both map to policy {slug!r} (slugs are lower-case); "
                "rename or remove one"
            )
        seen[slug] = path
        parsed = parse_source(file.read_bytes(), path=path, source=source, where=path)
        policy = result.get(slug)
        latest = policy.latest if policy is not None else None
        if policy is not None and not policy.withdrawn and latest and latest.text == parsed.text:
            continue
        draft = Draft(slug, path, parsed.settings.title, parsed.text, sha256_text(parsed.text))
        if policy is None:
            result[slug] = Policy(slug, path, parsed.settings, (), draft=draft)
        else:
            result[slug] = replace(policy, draft=draft)
    return dict(sorted(result.items()))

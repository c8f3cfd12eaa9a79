"""The content-addressed cache (.cache/policy-tracker/): classifications are remembered
between runs of log/check/sync, git ignores the folder, and a truncated or foreign entry is
detected, reported in one warning line and rebuilt, the output the same as a cold run."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo, policy_source
from tracker.cache import FORMAT, Cache, key
from tracker.history import read_catalog
from tracker.redline.cached import cached_classifier

BODY = (
    "## Use\n\nWe use your data to run the service for {n} days.\n\n"
    "## Sharing\n\nWe share it with no one.\n"
)


def _repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    for n in range(1, 5):
        repo.commit(f"Edit {n}", {"policy/privacy.md": policy_source("Privacy", BODY.format(n=n))})
    return repo


def _log(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TRACKER_")}
    return subprocess.run(
        [sys.executable, "-m", "tracker", "--repo", str(repo), "log", "privacy", "--json"],
        capture_output=True,
        text=True,
        env={**environ, **env},
        check=True,
    )


def _entries(repo: Path) -> list[Path]:
    return sorted(p for p in (repo / ".cache" / "policy-tracker").rglob("*") if p.is_file())


def test_classifications_are_cached_and_git_ignores_the_cache(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cache = Cache.for_repository(repo.path)
    cold = read_catalog(repo.path, classify=cached_classifier(cache))
    assert (cache.hits, cache.misses) == (0, 3)  # versions 2-4 are undeclared changes
    again = Cache.for_repository(repo.path)
    warm = read_catalog(repo.path, classify=cached_classifier(again))
    assert (again.hits, again.misses) == (3, 0)
    assert [v.significance for v in warm.get("privacy").versions] == [
        v.significance for v in cold.get("privacy").versions
    ]
    assert repo.git("status", "--porcelain") == ""  # .cache/policy-tracker/.gitignore says *


def test_bad_entries_are_rebuilt_with_one_warning_and_the_same_output(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    cold = _log(repo.path, POLICY_TRACKER_CACHE="0")
    assert not (repo.path / ".cache").exists() and cold.stderr == ""
    first = _log(repo.path)
    assert first.stdout == cold.stdout and first.stderr == ""
    entries = [p for p in _entries(repo.path) if p.name != ".gitignore"]
    assert len(entries) == 3
    truncated, foreign, _ = entries
    truncated.write_bytes(truncated.read_bytes()[:-1])
    other = key("another version's entry")
    payload = b"major"
    foreign.write_bytes(
        b"%s %s %s %d\n%s"
        % (FORMAT, other.encode(), hashlib.sha256(payload).hexdigest().encode(),
           len(payload), payload)
    )  # fmt: skip
    rebuilt = _log(repo.path)
    assert rebuilt.stdout == cold.stdout
    lines = rebuilt.stderr.splitlines()
    assert len(lines) == 1 and "cache entry" in lines[0] and "rebuilt" in lines[0], lines
    assert _log(repo.path).stderr == ""  # rewritten good

"""Build real git repositories in tmp_path with fixed authors and dates."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

EPOCH = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


class GitRepo:
    """A git repository driven through the git command line, one commit a day by default."""

    def __init__(self, path: Path, *, start: datetime = EPOCH, branch: str = "main"):
        self.path = path
        self.clock = start
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self.git("config", "user.name", "Test Editor")
        self.git("config", "user.email", "editor@example.org")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, date: datetime | None = None) -> str:
        when = (date or self.clock).isoformat()
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Test Editor",
            "GIT_AUTHOR_EMAIL": "editor@example.org",
            "GIT_COMMITTER_NAME": "Test Editor",
            "GIT_COMMITTER_EMAIL": "editor@example.org",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def write(self, relpath: str, text: str | bytes) -> Path:
        file = self.path / relpath
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            file.write_bytes(text)
        else:
            file.write_text(text, encoding="utf-8")
        return file

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes | None] | None = None,
        *,
        date: datetime | None = None,
        advance: timedelta = timedelta(days=1),
    ) -> str:
        """Write (or delete, with None) files, commit everything, return the SHA."""
        for relpath, text in (files or {}).items():
            if text is None:
                self.git("rm", "-q", relpath)
            else:
                self.write(relpath, text)
        self.git("add", "-A")
        if date is None:
            self.clock += advance
            date = self.clock
        self.git("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")

    def rename(self, old: str, new: str, message: str) -> str:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)
        return self.commit(message)

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(self, name: str, message: str) -> str:
        self.clock += timedelta(days=1)
        self.git("merge", "-q", "--no-ff", "-m", message, name, date=self.clock)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def policy_source(title: str, body: str, **meta: object) -> str:
    """A policy file with front matter."""
    lines = [f"title: {title}"] + [f"{k}: {v}" for k, v in meta.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body.strip("\n") + "\n"


def shallow_clone(origin: GitRepo, dest: Path, *, depth: int = 1) -> Path:
    """A shallow clone of ``origin`` (what CI checkouts make by default)."""
    subprocess.run(
        ["git", "clone", "-q", f"--depth={depth}", origin.path.as_uri(), str(dest)],
        check=True,
        capture_output=True,
    )
    return dest

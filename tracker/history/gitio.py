"""The git processes the reader runs, and parsers for their output.

Three processes at most per read, whatever the size of the history:

* one ``git log --first-parent --raw -z -M`` over the source folder (:func:`first_parent_log`);
* one ``git log`` of every commit's parents and message, only when a first-parent merge
  changed a policy (:func:`commit_graph`), to find the commits each merge brings in;
* one ``git cat-file --batch`` fed every blob at once (:func:`read_blobs`).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
from git.exc import GitCommandError, GitCommandNotFound, InvalidGitRepositoryError, NoSuchPathError

from tracker.errors import RepositoryError

#: Field and record separators of the log format; git refuses NUL in messages.
_RS, _US = b"\x1e", b"\x1f"
_LOG_FORMAT = "%x1e%H%x1f%P%x1f%aN%x1f%aE%x1f%ct%x1f%B"
_GRAPH_FORMAT = "%x1e%H%x1f%P%x1f%B"
_NULL_SHA = "0" * 40
#: Modes of regular files; symlinks and submodules under the source folder are not policies.
_FILE_MODES = frozenset({"100644", "100755"})


@dataclass(frozen=True)
class Change:
    """One ``git log --raw`` entry: a file added (A), modified (M), deleted (D), renamed (R)."""

    status: str
    path: str
    blob: str | None  # the new blob; None when deleted
    old_path: str | None = None  # renames only


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    committed: datetime
    message: str
    changes: tuple[Change, ...] = field(default=())

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def open_repository(path: str | Path) -> git.Repo:
    """Open the repository at ``path`` (or above it) with a clear error when there is none."""
    folder = Path(path)
    try:
        return git.Repo(folder, search_parent_directories=True)
    except NoSuchPathError:
        raise RepositoryError(
            f"{folder}: no such folder; pass the folder of the policy repository"
        ) from None
    except InvalidGitRepositoryError:
        raise RepositoryError(
            f"{folder}: not a git repository; run `git init` there or pass the repository folder"
        ) from None
    except GitCommandNotFound:
        raise RepositoryError("git is not installed or not on PATH; install git") from None


def _git(repo: git.Repo, *args: str, binary: bool = False) -> Any:
    try:
        return repo.git.execute(["git", *args], stdout_as_string=not binary)
    except GitCommandNotFound:
        raise RepositoryError("git is not installed or not on PATH; install git") from None


def resolve(repo: git.Repo, ref: str) -> str:
    """The commit SHA ``ref`` names, refusing empty repositories and unknown refs."""
    try:
        return str(
            _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        )
    except GitCommandError:
        pass
    if not _has_commits(repo):
        raise RepositoryError(
            f"{repo.working_tree_dir or repo.git_dir}: the repository has no commits yet; "
            "commit a policy first"
        ) from None
    raise RepositoryError(
        f"unknown ref {ref!r} in {repo.working_tree_dir or repo.git_dir}; "
        "name a branch, tag or commit that exists (see `git branch -a`)"
    ) from None


def _has_commits(repo: git.Repo) -> bool:
    try:
        _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        return True
    except GitCommandError:
        return bool(str(_git(repo, "for-each-ref", "--count=1", "--format=%(objectname)")))


def refuse_shallow(repo: git.Repo) -> None:
    if str(_git(repo, "rev-parse", "--is-shallow-repository")).strip() == "true":
        raise RepositoryError(
            f"{repo.working_tree_dir or repo.git_dir}: shallow clone, version numbers would be "
            "wrong; run `git fetch --unshallow` (in CI: fetch-depth: 0)"
        )


def first_parent_log(repo: git.Repo, head: str, source: str) -> list[Commit]:
    """The first-parent commits of ``head`` that change ``source/``, oldest first."""
    out: bytes = _git(
        repo,
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--reverse",
        "--raw",
        "-z",
        "-M",
        "--no-abbrev",
        "--no-color",
        "--no-show-signature",
        f"--format={_LOG_FORMAT}",
        head,
        "--",
        f"{source.strip('/')}/",
        binary=True,
    )
    return list(_parse_log(out))


def _parse_log(data: bytes) -> Iterator[Commit]:
    pos = data.find(_RS)
    while pos != -1:
        end = data.find(b"\0", pos)
        if end == -1:
            end = len(data)
        sha, parents, name, email, stamp, message = data[pos + 1 : end].split(_US, 5)
        changes: list[Change] = []
        pos = end + 1
        while pos < len(data) and data[pos] in b"\n\0":
            pos += 1
        while pos < len(data) and data[pos : pos + 1] == b":":
            meta_end = data.index(b"\0", pos)
            _old_mode, new_mode, _old_blob, new_blob, status = (
                data[pos + 1 : meta_end].decode("ascii").split(" ")
            )
            path_end = data.index(b"\0", meta_end + 1)
            path = _path(data[meta_end + 1 : path_end])
            pos = path_end + 1
            old_path = None
            if status[0] in "RC":
                new_end = data.index(b"\0", pos)
                old_path, path = path, _path(data[pos:new_end])
                pos = new_end + 1
            kind = status[0]
            if kind == "C":
                kind, old_path = "A", None
            elif kind == "T":  # a symlink became a file, or the other way round
                kind = "M"
            deleted = kind == "D" or new_mode not in _FILE_MODES
            changes.append(
                Change(
                    "D" if deleted else kind,
                    path,
                    None if deleted or new_blob == _NULL_SHA else new_blob,
                    old_path if not deleted else None,
                )
            )
            while pos < len(data) and data[pos] in b"\n\0":
                pos += 1
        yield Commit(
            sha.decode("ascii"),
            tuple(parents.decode("ascii").split()),
            f"{_text(name)} <{_text(email)}>",
            datetime.fromtimestamp(int(stamp), tz=UTC),
            _text(message),
            tuple(changes),
        )
        pos = data.find(_RS, pos)


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def commit_graph(repo: git.Repo, head: str) -> dict[str, tuple[tuple[str, ...], str]]:
    """Every commit reachable from ``head``: SHA → (parents, message), from one ``git log``."""
    out: bytes = _git(
        repo,
        "log",
        "-z",
        "--no-color",
        "--no-show-signature",
        f"--format={_GRAPH_FORMAT}",
        head,
        binary=True,
    )
    graph: dict[str, tuple[tuple[str, ...], str]] = {}
    for record in out.split(_RS)[1:]:
        sha, parents, message = record.rstrip(b"\0").split(_US, 2)
        graph[sha.decode("ascii")] = (tuple(parents.decode("ascii").split()), _text(message))
    return graph


def brought_in(
    graph: dict[str, tuple[tuple[str, ...], str]], head: str, merges: set[str]
) -> dict[str, list[str]]:
    """For each first-parent merge in ``merges``: the commits it brings in (``parent1..merge``).

    Walks the first-parent chain oldest first, keeping every commit already reachable; what a
    merge's other parents reach beyond that is what the merge brings in. Linear in the graph.
    """
    chain: list[str] = []
    sha: str | None = head
    while sha is not None and sha in graph:
        chain.append(sha)
        parents = graph[sha][0]
        sha = parents[0] if parents else None
    seen: set[str] = set()
    result: dict[str, list[str]] = {}
    for commit in reversed(chain):
        found: list[str] = []
        stack = list(graph[commit][0][1:])
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in graph:
                continue
            seen.add(sha)
            found.append(sha)
            stack.extend(graph[sha][0])
        seen.add(commit)
        if commit in merges:
            result[commit] = found
    return result


def read_blobs(repo: git.Repo, blobs: Iterable[str]) -> dict[str, bytes]:
    """The contents of ``blobs`` from one ``git cat-file --batch`` process."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    # Keep GitPython's wrapper alive: it ends the process when collected.
    handle = repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
    process = handle.proc
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin

    def feed() -> None:
        # A thread, so that git never blocks writing while we are still writing to it.
        try:
            stdin.write("".join(f"{sha}\n" for sha in wanted).encode("ascii"))
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    contents: dict[str, bytes] = {}
    try:
        for sha in wanted:
            header = process.stdout.readline().split()
            if len(header) != 3:
                raise RepositoryError(
                    f"blob {sha[:12]} is missing from the repository; run `git fsck`"
                )
            size = int(header[2])
            contents[sha] = process.stdout.read(size)
            process.stdout.read(1)  # the LF after each object
    finally:
        writer.join()
        process.stdout.close()
        process.wait()
        del handle
    return contents


def first_parent_range(repo: git.Repo, base: str | None, head: str) -> list[str]:
    """First-parent commits of ``head`` that ``base`` does not reach (all when None)."""
    exclude = ("--not", base) if base is not None else ()
    out = str(_git(repo, "rev-list", "--first-parent", "--reverse", head, *exclude))
    return out.split()


def first_parent(repo: git.Repo, commit: str) -> str | None:
    """The first parent of ``commit``, or None for a root commit."""
    parents = str(_git(repo, "rev-list", "--parents", "-n", "1", commit)).split()
    return parents[1] if len(parents) > 1 else None


def worktree_files(repo: git.Repo, source: str) -> list[str]:
    """Tracked and untracked (not ignored) files under ``source/`` in the working tree."""
    out: bytes = _git(
        repo,
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        f"{source.strip('/')}/",
        binary=True,
    )
    return sorted({_path(p) for p in out.split(b"\0") if p})

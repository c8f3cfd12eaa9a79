"""A policy repository made from django-termsandconditions versions: one commit per version,
dated by its ``date_active``, its name as the title, its text as the body and its ``info``
as the summary, each declared ``major`` (the app made every version binding).

The repository is built beside the target folder and moved into place whole, so a folder
that exists was made completely. Running again with the same versions finds it and reuses
it (``.git/policy-tracker-import.json`` records what it was made from); other versions, or
a folder made otherwise, are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import yaml

from tracker.errors import TrackerError
from tracker.importers.termsandconditions import PeerError, Terms

MANIFEST = "policy-tracker-import.json"
AUTHOR = ("django-termsandconditions import", "import@policy-tracker.invalid")


def manifest(terms: Sequence[Terms]) -> list[dict[str, object]]:
    """What a repository is made from: each version, in commit order."""
    out: list[dict[str, object]] = []
    for t in terms:
        digest = hashlib.sha256(
            json.dumps([t.slug, t.name, t.text, t.info, t.date_active.isoformat()]).encode()
        ).hexdigest()
        out.append({"id": t.id, "slug": t.slug, "version": t.number, "sha": digest})
    return out


def policy_file(t: Terms, repeat: bool) -> str:
    """The Markdown of a version; ``repeat``: the same name and text as the policy's previous
    version, which would make no version, so a comment naming the version is added."""
    front = yaml.safe_dump({"title": t.name or t.slug}, allow_unicode=True, sort_keys=False)
    body = t.text.replace("\r\n", "\n").strip("\n")
    if repeat:
        body += f"\n\n<!-- django-termsandconditions {t.slug} version {t.number} -->"
    return f"---\n{front}---\n\n{body}\n"


def _message(t: Terms, now: datetime) -> str:
    summary = " ".join(t.info.split()) or f"Version {t.number}."
    lines = [
        f"{t.name or t.slug} {t.number}",
        "",
        f"Imported from django-termsandconditions: terms id {t.id}, slug {t.slug}, version "
        f"{t.number}, active from {t.date_active.isoformat()}.",
        "",
        "Policy-Change: major",
        f"Policy-Summary: {summary}",
    ]
    if t.date_active > now:
        lines.append(f"Policy-Effective: {t.date_active.date().isoformat()}")
    return "\n".join(lines) + "\n"


def _git(cwd: Path, *args: str, when: datetime | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": AUTHOR[0],
        "GIT_AUTHOR_EMAIL": AUTHOR[1],
        "GIT_COMMITTER_NAME": AUTHOR[0],
        "GIT_COMMITTER_EMAIL": AUTHOR[1],
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    try:
        done = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", *args],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise TrackerError("git is not installed: the policy repository needs it") from None
    except subprocess.CalledProcessError as exc:
        raise TrackerError(f"git {args[0]} failed: {exc.stderr.strip()}") from None
    return done.stdout.strip()


def build_repository(terms: Sequence[Terms], into: Path, now: datetime) -> dict[int, str]:
    """The repository at ``into`` (made, or found made from the same versions); the commit
    of each version by terms id."""
    made = manifest(terms)
    if into.exists():
        return _reuse(into, made)
    into.parent.mkdir(parents=True, exist_ok=True)
    work = into.parent / f".{into.name}.importing-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        _git(work, "init", "-q", "-b", "main")
        previous: dict[str, tuple[str, str]] = {}
        commits: dict[int, str] = {}
        for t in terms:
            repeat = previous.get(t.slug) == (t.name, t.text.strip())
            previous[t.slug] = (t.name, t.text.strip())
            path = work / "policy" / f"{t.slug}.md"
            path.parent.mkdir(exist_ok=True)
            path.write_text(policy_file(t, repeat), encoding="utf-8")
            _git(work, "add", "-A")
            when = t.date_active if t.date_active <= now else now
            _git(work, "commit", "-q", "-m", _message(t, now), when=when)
            commits[t.id] = _git(work, "rev-parse", "HEAD")
        record = [{**m, "commit": commits[int(str(m["id"]))]} for m in made]
        (work / ".git" / MANIFEST).write_text(json.dumps(record, indent=1) + "\n")
        work.rename(into)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return commits


def _reuse(into: Path, made: list[dict[str, object]]) -> dict[int, str]:
    found = into / ".git" / MANIFEST
    try:
        record = json.loads(found.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PeerError(
            f"{into} exists and was not made by policy-tracker import: give a new folder"
        ) from None
    if [{k: v for k, v in r.items() if k != "commit"} for r in record] != made:
        raise PeerError(
            f"{into} was imported from other versions than the database holds now: import "
            "into a new folder"
        )
    return {int(r["id"]): str(r["commit"]) for r in record}


__all__ = ["build_repository", "manifest", "policy_file"]

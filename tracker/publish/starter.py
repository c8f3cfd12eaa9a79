"""``policy-tracker init``: the files of a new policy repository.

The files are shipped in ``starter_files/`` (named so that no tool of this project mistakes
them for its own); :data:`FILES` says where each goes. Nothing is ever overwritten: when any
of them exists, nothing is written at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from tracker.errors import TrackerError

#: (path in the new repository, file in starter_files/), in the order they are reported.
FILES: tuple[tuple[str, str], ...] = (
    ("policy/privacy.md", "policy__privacy.md.tmpl"),
    ("mkdocs.yml", "mkdocs.yml.tmpl"),
    ("docs/index.md", "docs__index.md.tmpl"),
    (".gitignore", "gitignore.tmpl"),
    (".github/workflows/policies.yml", "github__workflows__policies.yml.tmpl"),
    ("requirements.txt", "requirements.txt.tmpl"),
)


@dataclass(frozen=True)
class Started:
    """What ``init`` made: the folder and the files written in it, relative to it."""

    folder: Path
    created: tuple[str, ...]


def _version() -> str:
    try:
        return metadata.version("policy-tracker")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0.1.0"


def start_repository(folder: Path) -> Started:
    """Write the starter files into ``folder`` (created if missing); refuse, writing
    nothing, when any of them is already there."""
    if folder.exists() and not folder.is_dir():
        raise TrackerError(f"{folder} is a file, not a folder; name a new or existing folder")
    taken = [path for path, _ in FILES if (folder / path).exists() or (folder / path).is_symlink()]
    if taken:
        raise TrackerError(
            f"{folder} already has {', '.join(taken)}; nothing was written (init never "
            "overwrites: move them away or pick an empty folder)"
        )
    package = resources.files("tracker.publish").joinpath("starter_files")
    version = _version()
    for path, name in FILES:
        text = package.joinpath(name).read_text(encoding="utf-8").replace("@VERSION@", version)
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return Started(folder, tuple(path for path, _ in FILES))

"""Titles of the navigation's folder sections, as editors name them.

MkDocs titles a folder section by capitalising the folder's name (``github-terms/`` →
"Github terms"). A policy folder's section takes, in this order: the plugin option
``sections`` (``{github-terms: GitHub Terms}``), the ``title:`` of a ``.pages`` file in the
folder (the convention of the awesome-pages plugin), else MkDocs' own title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page

TITLE_FILE = ".pages"


def section_titles(sources: Path, option: Mapping[str, Any]) -> dict[str, str]:
    """Folder (relative to the policy sources, ``/``-separated) → title."""
    titles: dict[str, str] = {}
    if sources.is_dir():
        for file in sorted(sources.rglob(TITLE_FILE)):
            try:
                data = yaml.safe_load(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                raise ValueError(
                    f"{file}: not a YAML mapping with a 'title:'; fix or remove the file"
                ) from None
            title = data.get("title") if isinstance(data, dict) else None
            if isinstance(title, str) and title.strip():
                titles[file.parent.relative_to(sources).as_posix()] = title.strip()
    for folder, title in option.items():
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"plugin option 'sections': the title of {folder!r} must be text")
        titles[str(folder).strip("/")] = title.strip()
    return titles


def name_sections(items: Sequence[Any], titles: Mapping[str, str], *, depth: int) -> None:
    """Retitle, in place, the sections of ``items`` whose folder has a title."""
    for item in items:
        if not isinstance(item, Section):
            continue
        folder = _folder(item, depth)
        if folder is not None and folder in titles:
            item.title = titles[folder]
        name_sections(item.children, titles, depth=depth + 1)


def _folder(section: Section, depth: int) -> str | None:
    for child in section.children:
        if isinstance(child, Page):
            parts = child.file.src_uri.split("/")
            return "/".join(parts[: depth + 1]) if len(parts) > depth + 1 else None
        if isinstance(child, Section):
            found = _folder(child, depth)
            if found is not None:
                return found
    return None

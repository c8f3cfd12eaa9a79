"""Renames git cannot see: ``formerly:`` (and ``redirect_from:``) in a policy's front matter.

When a commit deletes ``policy/old.md`` and adds ``policy/new.md`` with a text rewritten too
much for git to pair them by similarity, the new file's front matter says what it was::

    formerly: [old]             # slugs, as the policy's address: legal/terms, privacy
    redirect_from: [/old/]      # the list many site generators read, read the same way

so its versions continue the old policy's (numbering, history, redirects from the old
addresses). Entries are slugs or the addresses of their pages (``/old/``, ``old.md``,
``old/index.html``); they are read when the file appears, and must name a policy that is
withdrawn at that commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracker.errors import SourceError

KEYS = ("formerly", "redirect_from")
_SUFFIXES = ("/index.html", "index.html", ".html", ".md")


def _slug(entry: str) -> str:
    text = entry.strip().strip("/")
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    return text.strip("/").lower()


def former_slugs(meta: Mapping[str, Any], *, where: str) -> tuple[str, ...]:
    """The slugs a policy's front matter says it had, in the order written, without repeats."""
    found: list[str] = []
    for key in KEYS:
        value = meta.get(key)
        if value is None:
            continue
        entries = [value] if isinstance(value, str) else value
        if not isinstance(entries, list) or not all(
            isinstance(e, str) and _slug(e) for e in entries
        ):
            raise SourceError(
                f"{where}: front matter '{key}' must be a list of former slugs, "
                f"like [old/slug]; got {value!r}"
            )
        found += [_slug(e) for e in entries if _slug(e) not in found]
    return tuple(found)

"""Classifications and rendered redlines through the content-addressed cache
(:mod:`tracker.cache`): keyed by the SHA-256 of both texts and of the redline code itself,
so that a new classifier or renderer never reads an old verdict."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

from tracker.cache import Cache, key
from tracker.policy import Significance, sha256_text
from tracker.redline.classify import classify
from tracker.redline.diff import compare
from tracker.redline.render import render_html


@functools.cache
def code_version() -> str:
    """The SHA-256 of the redline package's source: any change to it is a new version."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cached_classifier(cache: Cache) -> Callable[[str, str], Significance]:
    """``classify(compare(old, new)).suggested``, remembered in ``cache``."""

    def suggest(old: str, new: str) -> Significance:
        name = key("classify", code_version(), sha256_text(old), sha256_text(new))
        found = cache.get(name)
        if found is not None:
            try:
                return Significance(found.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                pass
        value = classify(compare(old, new)).suggested
        cache.put(name, value.value.encode("ascii"))
        return value

    return suggest


def redline_html(cache: Cache, old: str, new: str) -> str:
    """``render_html(compare(old, new))``, remembered in ``cache``."""
    name = key("redline-html", code_version(), sha256_text(old), sha256_text(new))
    return cache.text(name, lambda: render_html(compare(old, new)))

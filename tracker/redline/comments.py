"""HTML comments: in the source for editors, never shown to readers, never counted.

``<!-- markdownlint-disable … -->`` or ``<!-- TODO: … -->`` in a policy is invisible on a
rendered page, so the redline, the classifier and the generated pages all read the text
without them. Comments inside code (fenced blocks or backtick spans) are code, and stay.
"""

from __future__ import annotations

import functools
import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


@functools.lru_cache(maxsize=256)
def strip_comments(markdown: str) -> str:
    """``markdown`` without its HTML comments (code blocks and code spans untouched)."""
    if "<!--" not in markdown:
        return markdown
    if "```" not in markdown and "~~~" not in markdown:  # no fence: spare the line-by-line search
        return _strip(markdown)
    out: list[str] = []
    pos = 0
    while pos < len(markdown):
        fence = _FENCE.search(markdown, pos)
        if fence is None:
            out.append(_strip(markdown[pos:]))
            break
        out.append(_strip(markdown[pos : fence.start()]))
        marker = fence.group(1)
        close = re.compile(rf"^ {{0,3}}{marker[0]}{{{len(marker)},}}[ \t]*$", re.MULTILINE)
        line_end = markdown.find("\n", fence.end())
        if line_end == -1:
            out.append(markdown[fence.start() :])
            break
        end = close.search(markdown, line_end + 1)
        stop = len(markdown) if end is None else end.end()
        out.append(markdown[fence.start() : stop])
        pos = stop
    return "".join(out)


def _strip(text: str) -> str:
    """``text`` (no fenced code in it) without comments; a comment alone on its lines takes
    the lines with it, one inside a code span (odd backticks before it on its line) stays."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        end += 3
        line_start = text.rfind("\n", 0, start) + 1
        before = text[line_start:start]
        if before.count("`") % 2:
            out.append(text[pos:end])
            pos = end
            continue
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        if not before.strip(" \t") and not text[end:line_end].strip(" \t"):
            out.append(text[pos:line_start])
            pos = min(line_end + 1, len(text))
        else:
            out.append(text[pos:start])
            pos = end
    out.append(text[pos:])
    return "".join(out)


def has_comments(markdown: str) -> bool:
    return "<!--" in markdown and strip_comments(markdown) != markdown

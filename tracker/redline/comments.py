"""HTML comments: in the source for editors, never shown to readers, never counted.

``<!-- markdownlint-disable … -->`` or ``<!-- TODO: … -->`` in a policy is invisible on a
rendered page, so the redline, the classifier and the generated pages all read the text
without them. Comments inside code (fenced blocks or backtick spans) are code, and stay.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
# A code span (kept) or a comment; a comment alone on its lines takes the lines with it.
_SPAN_OR_COMMENT = re.compile(
    r"(?P<code>(?P<ticks>`+)[\s\S]*?(?P=ticks))"
    r"|(?P<line>^[ \t]*<!--[\s\S]*?-->[ \t]*(?:\n|\Z))"
    r"|(?P<inline><!--[\s\S]*?-->)",
    re.MULTILINE,
)


def strip_comments(markdown: str) -> str:
    """``markdown`` without its HTML comments (code blocks and code spans untouched)."""
    if "<!--" not in markdown:
        return markdown
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
    if "<!--" not in text:
        return text
    return _SPAN_OR_COMMENT.sub(lambda m: m.group("code") or "", text)


def has_comments(markdown: str) -> bool:
    return "<!--" in markdown and strip_comments(markdown) != markdown

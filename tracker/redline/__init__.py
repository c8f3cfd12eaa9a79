"""Markdown structure, redlines and the significance classifier (markdown-it-py).

Public API:

``parse_blocks(markdown) -> list[Block]``
    Blocks (heading, paragraph, list item, table row, code block, …) with their section path.
``compare(old, new) -> Redline``
    Block-level diff (matched, added, removed, moved, modified), then word-level inside
    modified blocks. ``Redline.to_dict()`` is the JSON form; ``Redline.sections`` the
    per-section summary; ``Redline.changed`` is False when the texts are equivalent.
``classify(redline) -> Classification``
    ``suggested`` significance and human ``reasons`` (patch / minor / major-suggested).
``suggest(old, new) -> Significance``
    ``classify(compare(old, new)).suggested``: the classifier that ``tracker.history``'s
    ``read_catalog`` is handed for undeclared changes.
``render_html(redline) -> str`` and ``render_terminal(redline) -> rich renderable``.
"""

from tracker.policy import Significance
from tracker.redline.blocks import Block, parse_blocks
from tracker.redline.classify import Classification, classify
from tracker.redline.diff import compare
from tracker.redline.model import Redline, SectionChange
from tracker.redline.render import render_html, render_terminal


def suggest(old: str, new: str) -> Significance:
    """The suggested significance of the change from ``old`` to ``new``."""
    return classify(compare(old, new)).suggested


__all__ = [
    "Block",
    "Classification",
    "Redline",
    "SectionChange",
    "classify",
    "compare",
    "parse_blocks",
    "render_html",
    "render_terminal",
    "suggest",
]

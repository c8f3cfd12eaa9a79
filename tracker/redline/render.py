"""Render a redline as HTML (for the site) or as a rich renderable (for the terminal).

HTML structure and CSS classes (stable: the site's stylesheet relies on them)
-----------------------------------------------------------------------------
``div.redline``
    The whole redline. Contains ``section.redline-summary`` then ``div.redline-body``.
``section.redline-summary``
    ``p.redline-totals`` (sections changed, words inserted / deleted) and a ``ul`` of
    ``li.redline-section.redline-section-<change>`` (``<change>``: ``added``, ``removed``,
    ``modified``, ``renamed``, ``moved``), each with a link to the section's heading,
    ``span.redline-change`` (what happened) and ``span.redline-counts``.
    An unchanged redline has ``p.redline-unchanged`` instead.
``div.redline-body``
    The new version's blocks in order, with removed blocks where they were. Headings stay
    ``h1``–``h6`` (with an ``id``), paragraphs ``p``, list items ``li`` inside ``ul``/``ol``
    (nested by depth), table rows ``tr`` inside ``table[data-redline]`` (no class, so that
    the site's theme styles it like the policy's own tables; header cells ``th``), code
    ``pre > code``, rules ``hr``; quoted blocks are wrapped in ``blockquote.redline-quote``.
    Every block element carries ``redline-block`` and one of:

    - ``redline-matched``: unchanged;
    - ``redline-added`` / ``redline-removed``: whole block, its content in ``ins`` / ``del``;
    - ``redline-modified``: word-level changes in ``ins`` / ``del``;
    - ``redline-moved``: the block at its new place, with ``span.redline-note`` saying
      where it came from (word changes, if any, in ``ins`` / ``del``);
    - ``redline-formatted``: the same words written another way (a heading's level,
      emphasis, a list marker, line wrapping, a table's alignment): shown once, as it is
      now, with a ``span.redline-note`` naming what changed;
    - ``redline-moved-from``: where a moved block used to be: its text in
      ``span.redline-moved-text`` and a ``span.redline-note`` saying where it went.

    ``span.redline-note`` also explains changes that have no words to show
    (formatting, link targets). All policy text is HTML-escaped; raw HTML in a policy is
    shown as text, never interpreted.

The terminal rendering is a section table followed by each changed block, inserted words
in green, deleted words in red and struck through. With ``marks=True`` (output that is not a
terminal: a pipe, a CI log) changes are also marked in the text, as ``git diff
--word-diff=plain`` does: ``[-deleted-]{+inserted+}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tracker.redline.blocks import Block, markdown_parser
from tracker.redline.model import BlockChange, Op, Redline, Segment, formatting_kinds


def _inline(markdown: str) -> str:
    return str(markdown_parser().renderInline(markdown)).rstrip("\n")


def _spaced(segments: Iterable[Segment]) -> list[Segment]:
    """Segments with a space between a deletion and the insertion that replaces it."""
    out: list[Segment] = []
    for segment in segments:
        last = out[-1] if out else None
        if segment.op == "insert" and last and last.op == "delete" and not last.text[-1:].isspace():
            out[-1] = Segment("delete", last.text + " ")
        out.append(segment)
    return out


def _segments_html(segments: Iterable[Segment]) -> str:
    out: list[str] = []
    for segment in _spaced(segments):
        if segment.op == "equal":
            out.append(escape(segment.text))
            continue
        core = segment.text.rstrip()
        tail = segment.text[len(core) :]
        tag = "ins" if segment.op == "insert" else "del"
        out.append(f"<{tag}>{escape(core)}</{tag}>{escape(tail)}")
    return "".join(out)


def _name(section: tuple[str, ...]) -> str:
    return " › ".join(section[1:] or section) or "the beginning"


class _Ids:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.by_section: dict[tuple[str, ...], str] = {}

    def make(self, section: tuple[str, ...]) -> str:
        base = "rl-" + (re.sub(r"[^\w]+", "-", (section[-1] if section else "").lower()).strip("-"))
        count = self.seen.get(base, 0)
        self.seen[base] = count + 1
        ident = base if count == 0 else f"{base}-{count + 1}"
        self.by_section.setdefault(section, ident)
        return ident


def _content(change: BlockChange, markdown: str, text: str, segments: tuple[Segment, ...]) -> str:
    """Inner HTML for a block's text (or one table cell)."""
    if change.stub:
        return f'<span class="redline-moved-text">{_inline(markdown)}</span>'
    if change.op is Op.ADDED:
        return f"<ins>{_inline(markdown)}</ins>" if text else _inline(markdown)
    if change.op is Op.REMOVED:
        return f"<del>{_inline(markdown)}</del>" if text else _inline(markdown)
    if segments:
        return _segments_html(segments)
    return _inline(markdown)


def _code_content(change: BlockChange) -> str:
    block = change.block
    if change.stub:
        return escape(block.text)
    if change.op is Op.ADDED:
        return f"<ins>{escape(block.text)}</ins>"
    if change.op is Op.REMOVED:
        return f"<del>{escape(block.text)}</del>"
    return _segments_html(change.segments) if change.segments else escape(block.text)


def _notes(change: BlockChange) -> str:
    notes: list[str] = []
    old, new = change.old, change.new
    if change.stub and new is not None:
        notes.append(f"Moved to “{_name(new.section)}”")
    elif change.op is Op.MOVED and old is not None:
        notes.append(f"Moved from “{_name(old.section)}”")
    if old is not None and new is not None and not change.stub and change.op is not Op.MATCHED:
        if old.links != new.links:
            gone = [link for link in old.links if link not in new.links]
            came = [link for link in new.links if link not in old.links]
            notes.append(f"Link changed: {', '.join(gone) or '—'} → {', '.join(came) or '—'}")
        if old.reading == new.reading and old.form != new.form:
            notes.append(_formatting_note(old, new))
        elif old.text == new.text and old.links == new.links and old.key != new.key:
            notes.append("Formatting changed")
    return "".join(f' <span class="redline-note">{escape(n)}</span>' for n in notes)


def _formatting_note(old: Block, new: Block) -> str:
    kinds = formatting_kinds(old, new)
    details = [
        f"heading level {old.level} → {new.level}" if kind == "heading level" else kind
        for kind in kinds
    ]
    return f"Formatting changed: {', '.join(details)}" if details else "Formatting changed"


def _classes(change: BlockChange) -> str:
    op = "moved-from" if change.stub else change.op.value
    return f"redline-block redline-{op}"


def _block_html(change: BlockChange, ids: _Ids) -> str:
    block = change.block
    cls = _classes(change)
    notes = _notes(change)
    if block.kind == "heading":
        level = max(1, min(block.level, 6))
        ident = "" if change.stub else f' id="{ids.make(block.section)}"'
        inner = _content(change, block.markdown, block.text, change.segments)
        return f'<h{level} class="{cls}"{ident}>{inner}{notes}</h{level}>'
    if block.kind == "code":
        info = f' data-lang="{escape(block.info)}"' if block.info else ""
        return f'<pre class="{cls}"{info}><code>{_code_content(change)}</code></pre>{notes}'
    if block.kind == "rule":
        return f'<hr class="{cls}">'
    if block.kind == "table_row":
        tag = "th" if block.header else "td"
        cells: list[str] = []
        for n, (text, markdown) in enumerate(zip(block.cells, block.cells_markdown, strict=True)):
            align = block.align[n] if n < len(block.align) else ""
            style = f' style="text-align:{escape(align)}"' if align else ""
            segments = change.cells[n] if n < len(change.cells) else ()
            cells.append(f"<{tag}{style}>{_content(change, markdown, text, segments)}</{tag}>")
        if change.cells and len(change.cells) > len(block.cells):
            for segments in change.cells[len(block.cells) :]:
                cells.append(f"<{tag}>{_segments_html(segments)}</{tag}>")
        if notes:
            cells[-1] = cells[-1][: -len(f"</{tag}>")] + notes + f"</{tag}>"
        return f'<tr class="{cls}">{"".join(cells)}</tr>'
    inner = _content(change, block.markdown, block.text, change.segments)
    tag = "li" if block.kind == "list_item" else "p"
    return f'<{tag} class="{cls}">{inner}{notes}'


class _Body:
    """Writes blocks, opening and closing lists, tables and quotes around them."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.lists: list[str] = []  # open list tags; each has an open <li>
        self.table: tuple[str, int] | None = None
        self.quote = 0

    def close_lists(self, depth: int = 0) -> None:
        while len(self.lists) > depth:
            self.out.append(f"</li></{self.lists.pop()}>")

    def close_table(self) -> None:
        if self.table is not None:
            self.out.append("</table>")
            self.table = None

    def set_quote(self, depth: int) -> None:
        if depth != self.quote:
            self.close_lists()
            self.close_table()
            self.out.append("</blockquote>" * self.quote)
            self.out.append('<blockquote class="redline-quote">' * depth)
            self.quote = depth

    def add(self, change: BlockChange, ids: _Ids) -> None:
        block = change.block
        self.set_quote(block.quote)
        html = _block_html(change, ids)
        if block.kind == "list_item":
            self.close_table()
            tag = "ol" if block.ordered else "ul"
            depth = max(block.level, 1)
            self.close_lists(depth)
            if len(self.lists) == depth and self.lists[-1] != tag:
                self.close_lists(depth - 1)
            if len(self.lists) == depth:
                self.out.append("</li>")
            while len(self.lists) < depth:
                start = f' start="{block.start}"' if tag == "ol" and block.start != 1 else ""
                self.out.append(f"<{tag}{start}>")
                self.lists.append(tag)
            self.out.append(html)
            return
        if block.kind == "table_row":
            side = "old" if change.new is None or change.stub else "new"
            if self.table is None or (self.table[0] == side and self.table[1] != block.group):
                self.close_lists()
                self.close_table()
                # No class: the theme styles (and wraps) tables without one, as in the
                # policy's own page; data-redline marks it for our stylesheet.
                self.out.append("<table data-redline>")
            self.table = (side, block.group)
            self.out.append(html)
            return
        self.close_lists()
        self.close_table()
        self.out.append(html + ("</p>" if block.kind == "paragraph" else ""))

    def finish(self) -> str:
        self.set_quote(0)
        self.close_lists()
        self.close_table()
        return "\n".join(self.out)


def unread_note(redline: Redline) -> str:
    """One sentence for a redline whose words did not change."""
    formatted = sum(1 for c in redline.blocks if c.op is Op.FORMATTED)
    parts: list[str] = []
    if formatted:
        kinds = ", ".join(redline.formatting)
        parts.append(f"{_plural(formatted, 'block')} reformatted ({kinds}), each marked")
    elif redline.whitespace_changed:
        parts.append("whitespace only")
    if redline.comments_changed:
        parts.append("HTML comments changed, which readers never see")
    return "No changes to the words" + (f": {'; '.join(parts)}." if parts else ".")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary_html(redline: Redline, ids: _Ids) -> str:
    if not redline.changed:
        return (
            '<section class="redline-summary">'
            f'<p class="redline-unchanged">{escape(unread_note(redline))}</p></section>'
        )
    count = len(redline.sections)
    items: list[str] = []
    for section in redline.sections:
        ident = ids.by_section.get(section.section)
        name = escape(_name(section.section))
        link = f'<a href="#{ident}">{name}</a>' if ident else name
        if section.change == "renamed" and section.old_section:
            link += f" (was “{escape(_name(section.old_section))}”)"
        items.append(
            f'<li class="redline-section redline-section-{section.change}">{link} '
            f'<span class="redline-change">{section.change}</span> '
            f'<span class="redline-counts">+{section.words_inserted} '
            f"−{section.words_deleted}</span></li>"
        )
    return (
        '<section class="redline-summary">'
        f'<p class="redline-totals">{count} section{"s" if count != 1 else ""} changed: '
        f"{redline.words_inserted} words inserted, {redline.words_deleted} deleted.</p>"
        f"<ul>{''.join(items)}</ul></section>"
    )


def render_html(redline: Redline) -> str:
    """The redline as an HTML fragment (see the module docstring for its classes)."""
    ids = _Ids()
    body = _Body()
    for change in redline.blocks:
        body.add(change, ids)
    inner = body.finish()
    return (
        f'<div class="redline">\n{_summary_html(redline, ids)}\n'
        f'<div class="redline-body">\n{inner}\n</div>\n</div>\n'
    )


# ---------------------------------------------------------------------------
# Terminal

_INS = "bold green"
_DEL = "red strike"
_MARK = {Op.ADDED: "+", Op.REMOVED: "-", Op.MODIFIED: "~", Op.MOVED: "↷", Op.FORMATTED: "≈"}


def _marked(text: Text, words: str, op: str, marks: bool) -> None:
    """Append ``words`` styled for ``op``, with ``[-…-]``/``{+…+}`` around them if ``marks``."""
    if op == "equal" or not words:
        text.append(words)
        return
    style = _INS if op == "insert" else _DEL
    if not marks:
        text.append(words, style=style)
        return
    core = words.rstrip()
    open_, close = ("{+", "+}") if op == "insert" else ("[-", "-]")
    text.append(f"{open_}{core}{close}", style=style)
    text.append(words[len(core) :])


def _segments_text(text: Text, segments: Iterable[Segment], marks: bool) -> None:
    if not marks:
        for segment in _spaced(segments):
            _marked(text, segment.text, segment.op, marks)
        return
    listed = list(segments)
    for n, segment in enumerate(listed):
        words = segment.text
        following = listed[n + 1] if n + 1 < len(listed) else None
        if segment.op == "delete" and following is not None and following.op == "insert":
            words = words.rstrip()  # [-old-]{+new+}, as git diff --word-diff writes it
        _marked(text, words, segment.op, marks)


def _block_text(change: BlockChange, marks: bool = False) -> Text:
    block = change.block
    prefix = "  " * max(block.level - 1, 0) + "• " if block.kind == "list_item" else ""
    text = Text(f"{_MARK.get(change.op, ' ')} {prefix}", style="dim")
    if change.stub and change.new is not None:
        text.append(block.text, style="dim")
        text.append(f"  [moved to “{_name(change.new.section)}”]", style="yellow")
        return text
    if change.op is Op.ADDED:
        _marked(text, block.text, "insert", marks)
    elif change.op is Op.REMOVED:
        _marked(text, block.text, "delete", marks)
    elif change.cells:
        for n, cell in enumerate(change.cells):
            text.append("| " if n == 0 else " | ", style="dim")
            _segments_text(text, cell, marks)
        text.append(" |", style="dim")
    elif change.segments:
        _segments_text(text, change.segments, marks)
    else:
        text.append(block.text)
    if change.op is Op.MOVED and change.old is not None:
        text.append(f"  [moved from “{_name(change.old.section)}”]", style="yellow")
    if change.old and change.new and change.old.links != change.new.links:
        text.append(f"  [link: {' '.join(change.old.links)} → {' '.join(change.new.links)}]")
    elif change.old and change.new and change.old.reading == change.new.reading:
        if change.old.form != change.new.form:
            note = _formatting_note(change.old, change.new).lower()
            text.append(f"  [{note}]", style="yellow")
    elif change.old and change.new and change.old.text == change.new.text and change.edited:
        text.append("  [formatting changed]", style="yellow")
    if block.kind == "heading":
        text.stylize("bold")
    return text


def render_terminal(redline: Redline, *, marks: bool = False) -> RenderableType:
    """A rich renderable: the section summary, then every changed block (``marks``: also
    ``[-deleted-]{+inserted+}`` in the text, for output without colours)."""
    if not redline.changed:
        note = Text(unread_note(redline), style="dim")
        if not redline.formatted:
            return note
        return Group(note, *(_block_text(c, marks) for c in redline.changes))
    table = Table(title="Sections changed", title_justify="left", show_edge=False)
    table.add_column("Section")
    table.add_column("Change")
    table.add_column("+", justify="right", style="green")
    table.add_column("−", justify="right", style="red")
    for section in redline.sections:
        table.add_row(
            _name(section.section),
            section.change,
            str(section.words_inserted),
            str(section.words_deleted),
        )
    parts: list[RenderableType] = [table, Text()]
    current: tuple[str, ...] | None = None
    for change in redline.changes:
        path = change.block.section
        if path != current:
            parts.append(Text(f"§ {_name(path)}", style="bold cyan"))
            current = path
        parts.append(_block_text(change, marks))
    parts.append(
        Text(f"{redline.words_inserted} words inserted, {redline.words_deleted} deleted", "dim")
    )
    return Group(*parts)


__all__ = ["render_html", "render_terminal"]

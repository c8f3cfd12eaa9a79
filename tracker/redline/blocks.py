"""A policy's Markdown as a flat list of blocks, each with the chain of headings above it.

Blocks are the units the redline aligns: a heading, a paragraph, one list item (its own
text, not its nested items, which are blocks of their own one level deeper), one table
row, a code block, a horizontal rule. Front matter, if present, is not a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from tracker.redline.comments import strip_comments
from tracker.redline.words import norm_words

BlockKind = Literal["heading", "paragraph", "list_item", "table_row", "code", "rule"]

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Block:
    """One block of a document.

    ``text`` is what a reader reads (inline Markdown stripped, link targets dropped,
    whitespace collapsed); ``markdown`` is the block's own inline source, used for display
    and for noticing formatting-only edits. ``level`` is the heading level (1–6) or the
    list nesting depth (1 = top level). ``group`` numbers the list or table a block belongs
    to, so that renderers can put consecutive items back into one ``<ul>`` or ``<table>``.
    """

    kind: BlockKind
    text: str
    markdown: str
    section: tuple[str, ...]
    level: int = 0
    ordered: bool = False
    start: int = 1
    cells: tuple[str, ...] = ()
    cells_markdown: tuple[str, ...] = ()
    align: tuple[str, ...] = ()
    header: bool = False
    quote: int = 0
    info: str = ""
    group: int = 0
    links: tuple[str, ...] = field(default=(), compare=False)
    marker: str = ""  # a list item's bullet or number delimiter: -, *, +, . or )

    # Derived values are cached on the (immutable) block: parse_blocks hands out the same
    # Block objects for unchanged parts of successive versions, so each is computed once.
    @cached_property
    def key(self) -> tuple[object, ...]:
        """Identity for alignment: equal keys mean equal blocks, up to whitespace."""
        source = self.markdown if self.kind == "code" else _SPACE.sub(" ", self.markdown).strip()
        return (self.kind, self.level, self.ordered, self.header, self.quote, source)

    @cached_property
    def reading(self) -> tuple[object, ...]:
        """What a reader reads: equal for blocks that differ only in form (a heading's
        level, emphasis, list marker, line wrapping, table alignment). The redline aligns
        on this, then marks a pair whose :attr:`form` differs as a formatting change."""
        source = self.markdown if self.kind == "code" else self.text
        level = 0 if self.kind == "heading" else self.level
        return (self.kind, level, self.header, self.quote, source, self.cells, self.links)

    @cached_property
    def form(self) -> tuple[object, ...]:
        """How the block is written, beyond what it reads."""
        return (self.level, self.ordered, self.start, self.marker, self.align, self.markdown)

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The words of ``text``, lower-cased, without punctuation marks."""
        return tuple(norm_words(self.text))


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    return md


def markdown_parser() -> MarkdownIt:
    """The shared parser (CommonMark + tables + strikethrough, raw HTML escaped)."""
    return _parser()


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def inline_text(token: Token) -> tuple[str, tuple[str, ...]]:
    """Plain text and link targets of an ``inline`` token."""
    parts: list[str] = []
    links: list[str] = []
    for child in token.children or ():
        kind = child.type
        if kind in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            parts.append(child.content)
            src = child.attrGet("src")
            if src is not None:
                links.append(str(src))
        elif kind == "link_open":
            href = child.attrGet("href")
            if href is not None:
                links.append(str(href))
    return collapse("".join(parts)), tuple(links)


@dataclass
class _Item:
    depth: int
    ordered: bool
    start: int
    group: int
    marker: str
    markdown: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


# A blank line followed by a line that starts a new block whatever came before it: not
# indented (code, list continuation), not a list item, quote, fence, reference or HTML.
_SPLIT = re.compile(r"\n\n+(?=[^\s\-+*>0-9`~<\[])")
_Headings = tuple[tuple[int, str], ...]  # (level, text) of the headings in force
# One line of plain words: a paragraph whatever the parser, and its own text.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ,.;:'\"?()/-]*\n?")


def parse_blocks(markdown: str) -> list[Block]:
    """Split Markdown into blocks with their section path (the headings above them).

    Successive versions of a policy share most of their text, so the text is cut at blank
    lines where no Markdown construct can span the cut, and each piece's blocks are cached,
    keyed by the piece, the headings above it and the number of lists and tables before it.
    Texts where a cut could change the meaning (reference definitions, fences, front matter,
    CR line ends) are parsed whole. HTML comments are not part of any block (readers never
    see them).
    """
    return list(_parse_text(markdown))


@lru_cache(maxsize=8)
def _parse_text(markdown: str) -> tuple[Block, ...]:
    # A history is compared pairwise, so each text is parsed as the new side of one redline
    # and the old side of the next: remember the last few.
    markdown = strip_comments(markdown)
    if (
        markdown.startswith("-")
        or "]:" in markdown
        or "```" in markdown
        or "~~~" in markdown
        or "\r" in markdown
        or "\0" in markdown
    ):
        return tuple(_parse_whole(markdown))
    blocks: list[Block] = []
    headings: _Headings = ()
    groups = 0
    start = 0
    for cut in _SPLIT.finditer(markdown):
        piece, headings, groups = _piece(markdown[start : cut.start() + 1], headings, groups)
        blocks.extend(piece)
        start = cut.end()
    piece, headings, groups = _piece(markdown[start:], headings, groups)
    blocks.extend(piece)
    return tuple(blocks)


def _parse_whole(markdown: str) -> list[Block]:
    return _walk(_parser().parse(markdown), [], 0)[0]


@lru_cache(maxsize=2048)
def _piece(
    markdown: str, headings: _Headings, groups: int
) -> tuple[tuple[Block, ...], _Headings, int]:
    """The blocks of one piece of a text, and the headings and the list and table count after it."""
    if _PLAIN.fullmatch(markdown):  # most pieces: spare the parser
        section = tuple(text for _, text in headings)
        source = markdown.strip()
        return (Block("paragraph", collapse(source), source, section),), headings, groups
    blocks, after, count = _parsed_piece(markdown, headings)
    if groups and count:
        # The same piece after another number of lists and tables: renumber, not reparse.
        blocks = tuple(replace(b, group=b.group + groups) if b.group else b for b in blocks)
    return blocks, after, groups + count


@lru_cache(maxsize=2048)
def _parsed_piece(markdown: str, headings: _Headings) -> tuple[tuple[Block, ...], _Headings, int]:
    """A piece parsed with its lists and tables numbered from 1, and how many it has."""
    stack = list(headings)
    blocks, count = _walk(_parser().parse(markdown), stack, 0)
    return tuple(blocks), tuple(stack), count


def _walk(
    tokens: list[Token], headings: list[tuple[int, str]], groups: int
) -> tuple[list[Block], int]:
    """Blocks of a token stream; ``headings`` (updated) and ``groups`` carry on from before."""
    blocks: list[Block] = []
    lists: list[tuple[bool, int, int]] = []  # (ordered, start, group) of open lists
    items: list[_Item] = []
    quote = 0
    row_cells: list[tuple[str, str, str]] = []  # (text, markdown, align)
    row_header = False
    row_links: list[str] = []
    table_group = 0

    def section() -> tuple[str, ...]:
        return tuple(text for _, text in headings)

    def flush_item() -> None:
        item = items[-1]
        if not item.markdown:
            return
        blocks.append(
            Block(
                "list_item",
                collapse(" ".join(item.text)),
                "\n\n".join(item.markdown),
                section(),
                level=item.depth,
                ordered=item.ordered,
                start=item.start,
                quote=quote,
                group=item.group,
                links=tuple(item.links),
                marker=item.marker,
            )
        )
        item.markdown.clear()
        item.text.clear()
        item.links.clear()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1:])
            inline = tokens[i + 1]
            text, links = inline_text(inline)
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            blocks.append(
                Block("heading", text, inline.content, section(), level=level, links=links)
            )
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            if items:
                flush_item()
            groups += 1
            start = token.attrGet("start")
            lists.append((kind == "ordered_list_open", int(start or 1), groups))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            ordered, start, group = lists[-1]
            items.append(_Item(len(lists), ordered, start, group, token.markup))
        elif kind == "list_item_close":
            flush_item()
            items.pop()
        elif kind == "blockquote_open":
            if items:
                flush_item()
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "paragraph_open":
            inline = tokens[i + 1]
            text, links = inline_text(inline)
            if items:
                items[-1].markdown.append(inline.content)
                items[-1].text.append(text)
                items[-1].links.extend(links)
            else:
                blocks.append(
                    Block("paragraph", text, inline.content, section(), quote=quote, links=links)
                )
            i += 3
            continue
        elif kind in ("fence", "code_block"):
            if items:
                flush_item()
            content = token.content.rstrip("\n")
            blocks.append(
                Block(
                    "code",
                    content,
                    content,
                    section(),
                    level=len(lists),
                    quote=quote,
                    info=token.info.strip(),
                )
            )
        elif kind == "hr":
            blocks.append(Block("rule", "", token.markup, section(), quote=quote))
        elif kind == "table_open":
            groups += 1
            table_group = groups
        elif kind == "thead_open":
            row_header = True
        elif kind == "tbody_open":
            row_header = False
        elif kind == "tr_open":
            row_cells = []
            row_links = []
        elif kind in ("th_open", "td_open"):
            inline = tokens[i + 1]
            text, links = inline_text(inline)
            row_links.extend(links)
            style = str(token.attrGet("style") or "")
            row_cells.append((text, inline.content, style.removeprefix("text-align:")))
            i += 3
            continue
        elif kind == "tr_close":
            blocks.append(
                Block(
                    "table_row",
                    " | ".join(c[0] for c in row_cells),
                    " | ".join(c[1] for c in row_cells),
                    section(),
                    cells=tuple(c[0] for c in row_cells),
                    cells_markdown=tuple(c[1] for c in row_cells),
                    align=tuple(c[2] for c in row_cells),
                    header=row_header,
                    quote=quote,
                    level=len(lists),
                    group=table_group,
                    links=tuple(row_links),
                )
            )
        i += 1
    return blocks, groups

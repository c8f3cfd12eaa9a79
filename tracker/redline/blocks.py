"""A policy's Markdown as a flat list of blocks, each with the chain of headings above it.

Blocks are the units the redline aligns: a heading, a paragraph, one list item (its own
text, not its nested items, which are blocks of their own one level deeper), one table
row, a code block, a horizontal rule. Front matter, if present, is not a block.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
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
# One line of plain words, with emphasis (``*a b*``, ``**a**``) between spaces or brackets and
# links with plain targets (``[text](other.md#part)``): a paragraph, read without the parser.
_EMPHASIS = r"(?<![^ (])(?:\*\*{0}\*\*|\*{0}\*)(?=[ .,;:)\n]|$)".format(
    r"[A-Za-z0-9](?:[A-Za-z0-9 ,'-]*[A-Za-z0-9])?"
)
_LINK = r"\[[A-Za-z0-9][A-Za-z0-9 ,.'-]*\]\((?:https?://)?[A-Za-z0-9._/#-]+\)"
_MARKED = re.compile(
    rf"(?:[A-Za-z]|{_EMPHASIS}|{_LINK})(?:[A-Za-z0-9 ,.;:'\"?()/-]++|{_EMPHASIS}|{_LINK})*+\n?"
)
_MARKS = re.compile(rf"{_EMPHASIS}|{_LINK}")
_LINK_PARTS = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
# An ATX heading of plain words (no closing #s, no trailing spaces): its own text.
_HEADING = re.compile(
    r"(#{1,6}) +([A-Za-z0-9](?:[A-Za-z0-9 ,.;:'\"?()/-]*[A-Za-z0-9.,;:'\"?()/-])?)\n?"
)


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
    cut = _cut(markdown, _recent[-1] if _recent else None)
    _recent.append(cut)
    return cut.blocks


@dataclass(frozen=True)
class _Cut:
    """A text cut into pieces: where each piece starts, the headings and the list and table
    count before it (its *state*), and how many blocks come before it."""

    text: str
    starts: tuple[int, ...]
    states: tuple[tuple[_Headings, int], ...]
    before: tuple[int, ...]
    blocks: tuple[Block, ...]


#: The text cut last: the next text of a history is cut against it (see :func:`_cut`).
_recent: deque[_Cut] = deque(maxlen=1)


def _cut(markdown: str, like: _Cut | None) -> _Cut:
    """Cut ``markdown`` into pieces and read their blocks.

    ``like`` is a text cut before (the previous version, usually): the pieces of the prefix
    the two texts share are its pieces, and once a piece starts inside the suffix they share,
    with the same state, the rest are its pieces too; only the pieces between are read. The
    cuts are the same as a cut from scratch: a cut depends on the text from its blank lines
    to the character after them, and on nothing before."""
    blocks: list[Block] = []
    starts: list[int] = []
    states: list[tuple[_Headings, int]] = []
    before: list[int] = []
    headings: _Headings = ()
    groups = start = 0
    tail = (0, -1)  # (offset of ``like``'s text in ours, first offset of the shared suffix)
    if like is not None:
        prefix = _shared(like.text, markdown, 1)
        first = max(bisect_left(like.starts, prefix) - 1, 0)
        starts.extend(like.starts[:first])
        states.extend(like.states[:first])
        before.extend(like.before[:first])
        blocks.extend(like.blocks[: like.before[first]])
        start, (headings, groups) = like.starts[first], like.states[first]
        shift = len(markdown) - len(like.text)
        tail = (shift, len(markdown) - _shared(like.text, markdown, -1))
    more = True
    while more:
        if like is not None and start >= tail[1]:
            at = bisect_left(like.starts, start - tail[0])
            if (
                at < len(like.starts)
                and like.starts[at] == start - tail[0]
                and like.states[at] == (headings, groups)
            ):
                starts.extend(x + tail[0] for x in like.starts[at:])
                states.extend(like.states[at:])
                before.extend(n - like.before[at] + len(blocks) for n in like.before[at:])
                blocks.extend(like.blocks[like.before[at] :])
                break
        starts.append(start)
        states.append((headings, groups))
        before.append(len(blocks))
        found = _SPLIT.search(markdown, start)
        end = len(markdown) if found is None else found.start() + 1
        piece, headings, groups = _piece(markdown[start:end], headings, groups)
        blocks.extend(piece)
        more = found is not None
        start = found.end() if found is not None else len(markdown)
    return _Cut(markdown, tuple(starts), tuple(states), tuple(before), tuple(blocks))


def _shared(a: str, b: str, direction: int) -> int:
    """The length of the longest prefix (``direction`` 1) or suffix (-1) of both texts."""
    n = min(len(a), len(b))

    def same(lo: int, hi: int) -> bool:
        if direction > 0:
            return a[lo:hi] == b[lo:hi]
        return a[len(a) - hi : len(a) - lo] == b[len(b) - hi : len(b) - lo]

    if same(0, n):
        return n
    lo, hi = 0, n  # the first lo characters are shared, the first hi are not
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if same(lo, middle):
            lo = middle
        else:
            hi = middle
    return lo


def _parse_whole(markdown: str) -> list[Block]:
    return _walk(_parser().parse(markdown), [], 0)[0]


@lru_cache(maxsize=2048)
def _piece(
    markdown: str, headings: _Headings, groups: int
) -> tuple[tuple[Block, ...], _Headings, int]:
    """The blocks of one piece of a text, and the headings and the list and table count after it."""
    # Most pieces are one line of words, marked up or not, or a heading: spare the parser.
    heading = _HEADING.fullmatch(markdown) if markdown.startswith("#") else None
    if heading is not None:
        level, source = len(heading[1]), heading[2]
        text = collapse(source)
        after = (*(h for h in headings if h[0] < level), (level, text))
        section = tuple(title for _, title in after)
        return (Block("heading", text, source, section, level=level),), after, groups
    if _MARKED.fullmatch(markdown):
        section = tuple(text for _, text in headings)
        source = markdown.strip()
        if "*" in source or "[" in source:
            text, links = _read_marks(source)
        else:  # plain words, spaces between them (no tab, no line break)
            text, links = (collapse(source) if "  " in source else source), ()
        return (Block("paragraph", text, source, section, links=links),), headings, groups
    blocks, after, count = _parsed_piece(markdown, headings)
    if groups and count:
        # The same piece after another number of lists and tables: renumber, not reparse.
        blocks = tuple(replace(b, group=b.group + groups) if b.group else b for b in blocks)
    return blocks, after, groups + count


def _read_marks(source: str) -> tuple[str, tuple[str, ...]]:
    """What ``inline_text`` gives for a line that ``_MARKED`` matches."""
    links: list[str] = []

    def read(mark: re.Match[str]) -> str:
        found = mark[0]
        if found[0] == "*":
            return found.strip("*")
        link = _LINK_PARTS.fullmatch(found)
        assert link is not None
        links.append(link[2])
        return link[1]

    text = _MARKS.sub(read, source)
    return (collapse(text) if "  " in text else text), tuple(links)


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

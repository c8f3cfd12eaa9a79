"""Compare two versions: align blocks, then diff words inside modified blocks.

Alignment runs in three passes, each cheap enough for 20,000-word policies:

1. ``SequenceMatcher`` over block keys (kind + whitespace-collapsed source) gives the
   blocks that are unchanged and in place (*matched*);
2. an unmatched block whose key appears among the unmatched blocks of the other side is
   *moved*; so is one that is very similar to a leftover block elsewhere (moved and edited);
3. inside each changed stretch, blocks of the same kind are paired in order with their most
   similar counterpart (*modified*); the rest are *added* or *removed*.

Alignment compares what readers read (:attr:`Block.reading`): a block whose words stay
and whose form changes (a heading's level, emphasis, a list marker, line wrapping, a table's
alignment) is one *formatted* block, not a deletion and an insertion. HTML comments are not
blocks at all (:mod:`tracker.redline.comments`).

``Redline.changed`` is True when what a reader reads changed; texts that differ only in
form, whitespace or comments are not changed: ``formatting`` names the kinds of formatting
change, ``whitespace_changed`` and ``comments_changed`` say the rest.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from tracker.redline.blocks import Block, parse_blocks
from tracker.redline.comments import strip_comments
from tracker.redline.model import UNREAD, BlockChange, Op, Redline, Segment, summarise_sections
from tracker.redline.model import SectionChange as SectionChange
from tracker.redline.model import formatting_kinds as formatting_kinds
from tracker.redline.words import count_words as count_words
from tracker.redline.words import is_word as is_word
from tracker.redline.words import tokens as tokens

_MOVE_MIN_WORDS = 3  # shorter blocks repeat too often to call their reappearance a move
_PAIR_WINDOW = 12
_PAIR_RATIO = 0.4
_MOVED_EDIT_RATIO = 0.75


def word_diff(old: str, new: str) -> tuple[tuple[Segment, ...], int, int]:
    """Segments of a word-level diff and the number of words inserted and deleted."""
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, [t for t, _ in a], [t for t, _ in b], autojunk=False)
    segments: list[Segment] = []
    inserted = deleted = 0
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            # Before a deletion, the old text's spacing keeps the deleted words apart
            # from the equal words ("name <del>and</del>", not "name<del>and</del>").
            following = opcodes[index + 1] if index + 1 < len(opcodes) else None
            source = a[i1:i2] if following and following[2] > following[1] else b[j1:j2]
            segments.append(Segment("equal", "".join(c + s for c, s in source)))
            continue
        if i2 > i1:
            segments.append(Segment("delete", "".join(c + s for c, s in a[i1:i2])))
            deleted += sum(1 for c, _ in a[i1:i2] if is_word(c))
        if j2 > j1:
            segments.append(Segment("insert", "".join(c + s for c, s in b[j1:j2])))
            inserted += sum(1 for c, _ in b[j1:j2] if is_word(c))
    return tuple(segments), inserted, deleted


_COMMENT = re.compile(r"<!--[\s\S]*?-->")


# ---------------------------------------------------------------------------
# Alignment


def _similarity(a: Sequence[str], b: Sequence[str], floor: float) -> float:
    """Similarity of two word lists, or 0.0 when it is surely below ``floor``."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


def _norm_words(block: Block) -> Sequence[str]:
    return block.words or (block.markdown,)


def _compatible(a: Block, b: Block) -> bool:
    if a.kind != b.kind:
        return False
    return not (a.kind == "heading" and a.level != b.level)


def _pair_region(
    a: Sequence[Block],
    b: Sequence[Block],
    olds: list[int],
    news: list[int],
) -> list[tuple[int, int]]:
    """Pair old and new blocks of one changed stretch, in order, by similarity."""
    pairs: list[tuple[int, int]] = []
    start = 0
    for i in olds:
        best, best_at = _PAIR_RATIO, -1
        for pos in range(start, min(len(news), start + _PAIR_WINDOW)):
            j = news[pos]
            if not _compatible(a[i], b[j]):
                continue
            ratio = _similarity(_norm_words(a[i]), _norm_words(b[j]), _PAIR_RATIO)
            if ratio > best or (best_at < 0 and ratio >= best):
                best, best_at = ratio, pos
        if best_at >= 0:
            pairs.append((i, news[best_at]))
            start = best_at + 1
    paired_old = {i for i, _ in pairs}
    paired_new = {j for _, j in pairs}
    # A retitled section: one heading of the same level left on each side.
    heads_a = [i for i in olds if a[i].kind == "heading" and i not in paired_old]
    heads_b = [j for j in news if b[j].kind == "heading" and j not in paired_new]
    if len(heads_a) == 1 and len(heads_b) == 1 and a[heads_a[0]].level == b[heads_b[0]].level:
        i, j = heads_a[0], heads_b[0]
        others = len(olds) == 1 and len(news) == 1
        before_ok = all((pi < i) == (pj < j) for pi, pj in pairs)
        if before_ok and (others or pairs):
            pairs.append((i, j))
            pairs.sort()
    return pairs


def _change(op: Op, old: Block | None, new: Block | None, *, stub: bool = False) -> BlockChange:
    if stub:
        return BlockChange(op, old, new, stub=True)
    if old is None and new is not None:
        return BlockChange(op, None, new, words_inserted=len(new.words))
    if new is None and old is not None:
        return BlockChange(op, old, None, words_deleted=len(old.words))
    assert old is not None and new is not None
    if op is Op.MATCHED or (op is Op.MODIFIED and old.reading == new.reading):
        formatted = old is not new and old.form != new.form  # blocks are shared when equal
        return BlockChange(Op.FORMATTED if formatted else Op.MATCHED, old, new)
    if old.text == new.text and old.cells == new.cells:
        return BlockChange(op, old, new)
    if new.kind == "table_row":
        cells: list[tuple[Segment, ...]] = []
        inserted = deleted = 0
        for n in range(max(len(old.cells), len(new.cells))):
            old_cell = old.cells[n] if n < len(old.cells) else ""
            new_cell = new.cells[n] if n < len(new.cells) else ""
            segments, ins, dels = word_diff(old_cell, new_cell)
            cells.append(segments)
            inserted += ins
            deleted += dels
        return BlockChange(op, old, new, (), tuple(cells), inserted, deleted)
    segments, inserted, deleted = word_diff(old.text, new.text)
    return BlockChange(op, old, new, segments, (), inserted, deleted)


#: The unchanged-block change of each block shared by two versions (parse_blocks hands out
#: the same Block objects for unchanged text): one object per block, not one per redline.
#: Keyed by id(); each entry holds its block, so the id cannot be reused while it is there.
_UNCHANGED: dict[int, BlockChange] = {}
_UNCHANGED_MAX = 200_000


def _matched(old: Block, new: Block) -> BlockChange:
    if old is not new:
        return _change(Op.MATCHED, old, new)
    found = _UNCHANGED.get(id(old))
    if found is None:
        if len(_UNCHANGED) >= _UNCHANGED_MAX:
            _UNCHANGED.clear()
        found = _UNCHANGED[id(old)] = BlockChange(Op.MATCHED, old, old)
    return found


def compare(old: str, new: str) -> Redline:
    """Redline between two normalised Markdown texts."""
    a, b = parse_blocks(old), parse_blocks(new)
    keys_a, keys_b = [x.reading for x in a], [x.reading for x in b]
    opcodes = _align(a, b, keys_a, keys_b)

    pair_of_old: dict[int, tuple[int, Op]] = {}
    pair_of_new: dict[int, tuple[int, Op]] = {}

    def pair(i: int, j: int, op: Op) -> None:
        pair_of_old[i] = (j, op)
        pair_of_new[j] = (i, op)

    # Blocks in "equal" stretches are matched in place; the others are paired below.
    free_a = [i for tag, i1, i2, _, _ in opcodes if tag != "equal" for i in range(i1, i2)]
    free_b = [j for tag, _, _, j1, j2 in opcodes if tag != "equal" for j in range(j1, j2)]

    # Moves: the same block, unmatched on both sides.
    waiting: dict[tuple[object, ...], deque[int]] = defaultdict(deque)
    for j in free_b:
        if b[j].kind == "heading" or _movable(b[j]):
            waiting[keys_b[j]].append(j)
    for i in free_a:
        if waiting.get(keys_a[i]):
            pair(i, waiting[keys_a[i]].popleft(), Op.MOVED)

    # Modified: similar blocks inside each changed stretch.
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        olds = [i for i in range(i1, i2) if i not in pair_of_old]
        news = [j for j in range(j1, j2) if j not in pair_of_new]
        if olds and news:
            for i, j in _pair_region(a, b, olds, news):
                pair(i, j, Op.MODIFIED)

    # Moved and edited: a leftover block very like a leftover block elsewhere.
    left_a = [i for i in free_a if i not in pair_of_old and _movable(a[i])]
    left_b = [j for j in free_b if j not in pair_of_new and _movable(b[j])]
    if left_a and left_b and len(left_a) * len(left_b) <= 40_000:
        for i in left_a:
            best, best_j = _MOVED_EDIT_RATIO, -1
            for j in left_b:
                if j in pair_of_new or not _compatible(a[i], b[j]):
                    continue
                ratio = _similarity(_norm_words(a[i]), _norm_words(b[j]), best)
                if ratio >= best:
                    best, best_j = ratio, j
            if best_j >= 0:
                pair(i, best_j, Op.MOVED)

    changes = _reading_order(a, b, opcodes, pair_of_old, pair_of_new)
    sections = summarise_sections(changes)
    changed = [c for c in changes if c.op is not Op.MATCHED]
    inserted = sum(c.words_inserted for c in changed)
    deleted = sum(c.words_deleted for c in changed)
    kinds = sorted(
        {k for c in changed if c.op is Op.FORMATTED for k in formatting_kinds(c.block_old, c.block)}
    )
    unread = not any(c.op not in UNREAD for c in changed)
    return Redline(
        tuple(changes),
        sections,
        inserted,
        deleted,
        sum(len(x.words) for x in a),
        sum(len(x.words) for x in b),
        whitespace_changed=unread
        and old != new
        and set(kinds) <= {"line wrapping"}
        and strip_comments(old) != strip_comments(new),
        formatting=tuple(kinds),
        comments_changed=_COMMENT.findall(old) != _COMMENT.findall(new),
    )


Opcode = tuple[str, int, int, int, int]


def _align(
    a: Sequence[Block],
    b: Sequence[Block],
    keys_a: list[tuple[object, ...]],
    keys_b: list[tuple[object, ...]],
) -> list[Opcode]:
    """Opcodes over blocks: headings are aligned first and anchor the rest, so that a
    paragraph moved past a heading reads as the paragraph moving, not the heading."""
    heads_a = [i for i, x in enumerate(a) if x.kind == "heading"]
    heads_b = [j for j, x in enumerate(b) if x.kind == "heading"]
    matcher = SequenceMatcher(
        None, [keys_a[i] for i in heads_a], [keys_b[j] for j in heads_b], autojunk=False
    )
    anchors = [
        (heads_a[m.a + k], heads_b[m.b + k])
        for m in matcher.get_matching_blocks()
        for k in range(m.size)
    ]
    opcodes: list[Opcode] = []
    i0 = j0 = 0
    for ia, jb in [*anchors, (len(a), len(b))]:
        part_a, part_b = keys_a[i0:ia], keys_b[j0:jb]
        if part_a == part_b:  # most stretches between two headings: what difflib would say
            if part_a:
                opcodes.append(("equal", i0, ia, j0, jb))
        else:
            sub = SequenceMatcher(None, part_a, part_b, autojunk=False)
            for tag, i1, i2, j1, j2 in sub.get_opcodes():
                opcodes.append((tag, i0 + i1, i0 + i2, j0 + j1, j0 + j2))
        if ia < len(a):
            opcodes.append(("equal", ia, ia + 1, jb, jb + 1))
        i0, j0 = ia + 1, jb + 1
    return opcodes


def _movable(block: Block) -> bool:
    return len(block.words) >= _MOVE_MIN_WORDS


def _reading_order(
    a: Sequence[Block],
    b: Sequence[Block],
    opcodes: Iterable[Opcode],
    pair_of_old: dict[int, tuple[int, Op]],
    pair_of_new: dict[int, tuple[int, Op]],
) -> list[BlockChange]:
    """Blocks of the new version in order, with removed blocks and move stubs where they were."""
    out: list[BlockChange] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            out.extend(map(_matched, a[i1:i2], b[j1:j2]))
            continue
        i = i1

        def flush_old(until: int) -> None:
            nonlocal i
            while i < until:
                paired = pair_of_old.get(i)
                if paired is None:
                    out.append(_change(Op.REMOVED, a[i], None))
                elif paired[1] is Op.MOVED:
                    out.append(_change(Op.MOVED, a[i], b[paired[0]], stub=True))
                i += 1

        for j in range(j1, j2):
            paired = pair_of_new.get(j)
            if paired is None:
                out.append(_change(Op.ADDED, None, b[j]))
            elif paired[1] is Op.MODIFIED:
                flush_old(paired[0])
                out.append(_change(Op.MODIFIED, a[paired[0]], b[j]))
                i = paired[0] + 1
            else:
                out.append(_change(Op.MOVED, a[paired[0]], b[j]))
        flush_old(i2)
    return out

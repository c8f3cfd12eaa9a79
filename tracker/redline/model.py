"""What a redline is made of: block changes, the section summary and the whole redline.

:func:`tracker.redline.diff.compare` builds a :class:`Redline`; the classifier and the
renderers read it. ``summarise_sections`` turns the block changes, in reading order, into
the per-section summary (sections named by their heading path in the new version).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from tracker.redline.blocks import Block


class Op(StrEnum):
    MATCHED = "matched"
    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"
    MODIFIED = "modified"
    FORMATTED = "formatted"  # the same words, written another way


SegmentOp = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class Segment:
    """A run of words in a word-level diff; ``text`` keeps its trailing whitespace."""

    op: SegmentOp
    text: str


@dataclass(frozen=True)
class BlockChange:
    """What happened to one block. A moved block appears twice: at its new place, and as a
    ``stub`` at its old place (no words counted there)."""

    op: Op
    old: Block | None
    new: Block | None
    segments: tuple[Segment, ...] = ()
    cells: tuple[tuple[Segment, ...], ...] = ()
    words_inserted: int = 0
    words_deleted: int = 0
    stub: bool = False

    @property
    def block(self) -> Block:
        block = self.old if self.stub or self.new is None else self.new
        assert block is not None
        return block

    @property
    def block_old(self) -> Block:
        block = self.old if self.old is not None else self.new
        assert block is not None
        return block

    @property
    def edited(self) -> bool:
        """True when the block's source changed (modified, or moved and edited)."""
        return self.old is not None and self.new is not None and self.old.key != self.new.key

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "op": self.op.value,
            "kind": self.block.kind,
            "section": list(self.block.section),
        }
        if self.stub:
            data["stub"] = True
        if self.old is not None:
            data["old"] = self.old.text
            data["old_section"] = list(self.old.section)
        if self.new is not None:
            data["new"] = self.new.text
        if self.segments and not self.stub:
            data["segments"] = [[s.op, s.text] for s in self.segments]
        if self.cells and not self.stub:
            data["cells"] = [[[s.op, s.text] for s in cell] for cell in self.cells]
        data["words_inserted"] = self.words_inserted
        data["words_deleted"] = self.words_deleted
        return data


SectionHappening = Literal["added", "removed", "modified", "renamed", "moved"]


@dataclass(frozen=True)
class SectionChange:
    """A section (named by its heading path in the new version) and what happened to it."""

    section: tuple[str, ...]
    change: SectionHappening
    words_inserted: int = 0
    words_deleted: int = 0
    old_section: tuple[str, ...] | None = None

    @property
    def title(self) -> str:
        return self.section[-1] if self.section else ""

    @property
    def path(self) -> tuple[str, ...]:
        """Alias of ``section``."""
        return self.section

    @property
    def kind(self) -> SectionHappening:
        """Alias of ``change``."""
        return self.change

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "section": list(self.section),
            "change": self.change,
            "words_inserted": self.words_inserted,
            "words_deleted": self.words_deleted,
        }
        if self.old_section is not None and self.old_section != self.section:
            data["old_section"] = list(self.old_section)
        return data


@dataclass(frozen=True)
class Redline:
    """The result of :func:`compare`: every block in reading order, and a section summary."""

    blocks: tuple[BlockChange, ...]
    sections: list[SectionChange] = field(default_factory=list)
    words_inserted: int = 0
    words_deleted: int = 0
    old_words: int = 0
    new_words: int = 0
    whitespace_changed: bool = False
    formatting: tuple[str, ...] = ()  # kinds of formatting change, see formatting_kinds()
    comments_changed: bool = False

    @property
    def changed(self) -> bool:
        """True when what a reader reads changed (not only its form)."""
        return any(change.op not in UNREAD for change in self.blocks)

    @property
    def formatted(self) -> bool:
        return any(change.op is Op.FORMATTED for change in self.blocks)

    @cached_property
    def changes(self) -> list[BlockChange]:
        """The blocks that are not matched unchanged (a list computed once: do not alter it)."""
        return [c for c in self.blocks if c.op is not Op.MATCHED]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; matched blocks are left out."""
        return {
            "changed": self.changed,
            "whitespace_changed": self.whitespace_changed,
            "formatting": list(self.formatting),
            "comments_changed": self.comments_changed,
            "words_inserted": self.words_inserted,
            "words_deleted": self.words_deleted,
            "old_words": self.old_words,
            "new_words": self.new_words,
            "sections": [s.to_dict() for s in self.sections],
            "blocks": [c.to_dict() for c in self.changes],
        }


#: The ops under which a reader reads the same words.
UNREAD = frozenset({Op.MATCHED, Op.FORMATTED})


def formatting_kinds(old: Block, new: Block) -> list[str]:
    """How two blocks that read the same are written differently."""
    kinds: list[str] = []
    if old.level != new.level and old.kind == "heading":
        kinds.append("heading level")
    if old.marker != new.marker or old.ordered != new.ordered or old.start != new.start:
        kinds.append("list marker")
    if old.align != new.align:
        kinds.append("table alignment")
    if _SPACE.sub(" ", old.markdown).strip() != _SPACE.sub(" ", new.markdown).strip():
        kinds.append("emphasis" if old.links == new.links else "link targets")
    elif old.markdown != new.markdown:
        kinds.append("line wrapping")
    return kinds


_SPACE = re.compile(r"\s+")


@dataclass
class _Tally:
    change: SectionHappening | None = None
    inserted: int = 0
    deleted: int = 0
    old: tuple[str, ...] | None = None
    touched: bool = False


def summarise_sections(changes: Sequence[BlockChange]) -> list[SectionChange]:
    """Per-section summary, sections named by their new heading path."""
    renamed: dict[tuple[str, ...], tuple[str, ...]] = {}
    for change in changes:
        if change.old and change.new and change.old.kind == "heading" and not change.stub:
            renamed[change.old.section] = change.new.section
    tallies: dict[tuple[str, ...], _Tally] = {}
    last: BlockChange | None = None
    for change in changes:
        if (  # an unchanged block in the section of the block before it adds nothing
            change.op is Op.MATCHED
            and last is not None
            and last.new is not None
            and change.new is not None
            and change.new.section == last.new.section
        ):
            continue
        last = change if not change.stub else None
        if change.new is not None and not change.stub:
            path = change.new.section
        else:
            assert change.old is not None
            path = renamed.get(change.old.section, change.old.section)
        tally = tallies.setdefault(path, _Tally())
        tally.inserted += change.words_inserted
        tally.deleted += change.words_deleted
        tally.touched = tally.touched or change.op not in UNREAD
        if change.block.kind == "heading" and not change.stub:
            happening = _heading_change(change)
            if happening is not None:
                tally.change = happening
                tally.old = change.old.section if change.old is not None else None
    result: list[SectionChange] = []
    for path, tally in tallies.items():
        happening = tally.change or ("modified" if tally.touched else None)
        if happening is not None:
            result.append(SectionChange(path, happening, tally.inserted, tally.deleted, tally.old))
    return result


def _heading_change(change: BlockChange) -> SectionHappening | None:
    if change.op is Op.ADDED:
        return "added"
    if change.op is Op.REMOVED:
        return "removed"
    if change.op is Op.MOVED and not change.stub:
        return "moved"
    if change.op is Op.MODIFIED:
        return (
            "renamed" if change.old and change.new and change.old.text != change.new.text else None
        )
    return None

"""Suggest a significance for a redline, with the reasons a reviewer can check.

* ``patch``: the words a reader reads are the same, ignoring whitespace, punctuation,
  letter case, Markdown formatting (heading levels, emphasis, list markers, line wrapping,
  table alignment), HTML comments (never shown) and link targets; or the only word changes are
  spelling corrections (a word replaced by one a letter or two away, never a number,
  a negation or a short word like ``not`` → ``now``).
* ``minor``: anything else.
* ``major`` (suggested): a change that looks material: a section added or removed, more
  than :data:`LARGE_SHARE` of the words changed, numbers, dates or durations changed,
  or a negation or obligation word (``not``, ``must``, ``may``…) added or removed.

The classifier errs towards the higher level: an editor can always declare lower.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.policy import Significance
from tracker.redline.model import BlockChange, Op, Redline, Segment
from tracker.redline.words import is_word, norm_words, tokens

LARGE_SHARE = 0.20

_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
_NUMBER_WORDS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "thousand", "million", "billion", "once", "twice", "half", "double", "single",
    "first", "second", "third", "annual", "annually", "daily", "weekly", "monthly", "yearly",
}  # fmt: skip
_DURATIONS = {
    "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "business", "calendar", "working", "immediately",
    "promptly", "indefinitely", "permanently",
}  # fmt: skip
_OBLIGATIONS = {
    "not", "no", "never", "none", "nor", "without", "except", "unless", "only", "must",
    "shall", "may", "might", "will", "can", "cannot", "should", "required", "optional",
    "mandatory", "always", "all", "any",
}  # fmt: skip
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Classification:
    """A suggested significance and the reasons for it, one short sentence each."""

    suggested: Significance
    reasons: tuple[str, ...]

    @property
    def material(self) -> bool:
        return self.suggested is Significance.MAJOR

    def to_dict(self) -> dict[str, object]:
        return {"suggested": self.suggested.value, "reasons": list(self.reasons)}


def _side(change: BlockChange, side: str) -> tuple[str, ...]:
    """The words of the old or the new block of a change (none if there is no such block)."""
    block = change.old if side == "old" else change.new
    return () if block is None else block.words


def _where(change: BlockChange) -> str:
    section = change.block.section
    return f" in “{section[-1]}”" if section else ""


def _edit_distance(a: str, b: str) -> int:
    """Damerau–Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[len(b)]


def _is_typo_fix(old: str, new: str) -> bool:
    if _DIGIT.search(old) or _DIGIT.search(new) or min(len(old), len(new)) < 4:
        return False
    if old in _OBLIGATIONS or new in _OBLIGATIONS:
        return False
    limit = 2 if min(len(old), len(new)) >= 8 else 1
    return _edit_distance(old, new) <= limit


def _word_pairs(segments: Iterable[Segment]) -> list[tuple[list[str], list[str]]]:
    """(deleted words, inserted words) for each changed run of a word diff."""
    runs: list[tuple[list[str], list[str]]] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for segment in (*segments, Segment("equal", "")):
        if segment.op == "delete":
            deleted.extend(norm_words(segment.text))
        elif segment.op == "insert":
            inserted.extend(norm_words(segment.text))
        elif deleted or inserted:
            runs.append((deleted, inserted))
            deleted, inserted = [], []
    return runs


def _spelling_only(changes: list[BlockChange]) -> list[str] | None:
    """The corrections, if every word change is a spelling fix; else None."""
    fixes: list[str] = []
    for change in changes:
        if change.op is Op.MATCHED or change.stub:
            continue
        if change.old is None or change.new is None:
            if _side(change, "old") or _side(change, "new"):
                return None
            continue
        runs = [r for cell in change.cells for r in _word_pairs(cell)]
        runs += _word_pairs(change.segments)
        for deleted, inserted in runs:
            if len(deleted) != len(inserted):
                return None
            for old, new in zip(deleted, inserted, strict=True):
                if old == new:
                    continue
                if not _is_typo_fix(old, new):
                    return None
                fixes.append(f"{old} → {new}")
    return fixes


def _changed_words(redline: Redline) -> tuple[Counter[str], Counter[str]]:
    """Words removed and added (as multisets), whole blocks and word-diff runs together."""
    removed: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for change in redline.changes:
        if change.stub:
            continue
        if change.new is None:
            removed.update(_side(change, "old"))
        elif change.old is None:
            added.update(_side(change, "new"))
        else:
            for cell in (*change.cells, change.segments):
                for deleted, inserted in _word_pairs(cell):
                    removed.update(deleted)
                    added.update(inserted)
    return removed, added


def _numbers_reason(redline: Redline) -> str | None:
    examples: list[str] = []
    for change in redline.changes:
        if change.stub:
            continue
        if change.old is None or change.new is None:
            words = _side(change, "old") or _side(change, "new")
            # Whole new or dropped blocks: only figures count ("item one" is not a term).
            hits = [w for w in words if _DIGIT.search(w)]
            if hits:
                verb = "added" if change.old is None else "removed"
                examples.append(f"{verb} “{' '.join(hits[:4])}”{_where(change)}")
            continue
        for cell in (*change.cells, change.segments):
            for deleted, inserted in _word_pairs(cell):
                if Counter(w for w in deleted if _numeric(w)) != Counter(
                    w for w in inserted if _numeric(w)
                ):
                    old = " ".join(deleted) or "∅"
                    new = " ".join(inserted) or "∅"
                    examples.append(f"“{old}” → “{new}”{_where(change)}")
    if not examples:
        return None
    more = f" (and {len(examples) - 3} more)" if len(examples) > 3 else ""
    return "numbers, dates or durations changed: " + "; ".join(examples[:3]) + more


def _numeric(word: str) -> bool:
    return bool(_DIGIT.search(word)) or word in _NUMBER_WORDS | _MONTHS | _DURATIONS


def _editorial_kinds(redline: Redline) -> list[str]:
    """Which kinds of editorial change a words-identical redline contains."""
    kinds: set[str] = set()
    for change in redline.changes:
        old, new = change.old, change.new
        if old is None or new is None:
            kinds.add("Markdown formatting")
            continue
        if _marks(old.text) != _marks(new.text):
            kinds.add("punctuation")
        if _strip_punct(old.text) != _strip_punct(new.text):
            kinds.add("letter case")
        if old.links != new.links:
            kinds.add("link targets")
        if old.text == new.text and old.links == new.links:
            kinds.add("Markdown formatting")
    if redline.whitespace_changed:
        kinds.add("whitespace")
    order = ["whitespace", "punctuation", "letter case", "Markdown formatting", "link targets"]
    return [k for k in order if k in kinds]


def _marks(text: str) -> list[str]:
    return [core for core, _ in tokens(text) if not is_word(core)]


def _strip_punct(text: str) -> str:
    return " ".join(core for core, _ in tokens(text) if is_word(core))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _unread_reason(redline: Redline) -> str:
    """Why a redline whose words are unchanged is a patch."""
    parts: list[str] = []
    if redline.whitespace_changed:
        parts.append("whitespace")
    form = [k for k in redline.formatting if k != "line wrapping"]
    if form:
        parts.append(f"Markdown formatting ({', '.join(form)})")
    if redline.comments_changed:
        parts.append("HTML comments (not shown to readers)")
    if not parts:
        return "no change to the text"
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"only {listed} changed"


def _same_words(redline: Redline) -> bool:
    """True when both versions have the same words in the same order."""
    # Each version's blocks appear once in a redline: different counts, different words.
    if redline.old_words != redline.new_words:
        return False
    # Each version's words in reading order (stubs stand at the old place), less the prefix
    # both have so far: an unchanged block adds the same words to both, so while they are
    # level it changes nothing.
    old: list[str] = []
    new: list[str] = []
    for c in redline.blocks:
        if c.op is Op.MATCHED and not old and not new:
            continue
        if c.new and not c.stub:
            new += c.new.words
        if c.old and (c.stub or c.op is not Op.MOVED):
            old += c.old.words
        shared = 0
        for a, b in zip(old, new, strict=False):
            if a != b:
                break
            shared += 1
        del old[:shared], new[:shared]
    return not old and not new


def classify(redline: Redline) -> Classification:
    """Suggest patch, minor or major for a redline, with reasons."""
    if not redline.changed:
        return Classification(Significance.PATCH, (_unread_reason(redline),))

    moved = any(c.op is Op.MOVED for c in redline.changes)
    if _same_words(redline) and not moved:
        kinds = _editorial_kinds(redline) or ["Markdown formatting"]
        listed = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
        return Classification(Significance.PATCH, (f"only {listed} changed",))

    material: list[str] = []
    for section in redline.sections:
        name = " › ".join(section.section[1:] or section.section)
        if section.change in ("added", "removed"):
            material.append(f"section “{name}” {section.change}")
    share = max(redline.words_inserted, redline.words_deleted) / max(redline.old_words, 1)
    if share > LARGE_SHARE:
        material.append(f"{share:.0%} of the words changed (more than {LARGE_SHARE:.0%})")
    numbers = _numbers_reason(redline)
    if numbers:
        material.append(numbers)
    removed, added = _changed_words(redline)
    flips = sorted(w for w in _OBLIGATIONS if removed[w] != added[w] and (removed[w] or added[w]))
    if flips:
        material.append("negation or obligation words changed: " + ", ".join(flips))
    if material:
        return Classification(Significance.MAJOR, tuple(material))

    if not moved:
        fixes = _spelling_only(redline.changes)
        if fixes is not None:
            listed = ", ".join(fixes[:5]) + (" …" if len(fixes) > 5 else "")
            return Classification(Significance.PATCH, (f"only spelling corrections: {listed}",))

    reasons: list[str] = []
    counts = Counter(c.op for c in redline.changes if not c.stub)
    for op in (Op.MODIFIED, Op.ADDED, Op.REMOVED, Op.MOVED):
        if counts[op]:
            reasons.append(f"{_plural(counts[op], 'block')} {op.value}")
    words = f"{_plural(redline.words_inserted, 'word')} inserted, {redline.words_deleted} deleted"
    return Classification(Significance.MINOR, (f"wording changed: {', '.join(reasons)}; {words}",))

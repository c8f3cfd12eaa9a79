"""Property tests: a redline loses no words and invents none."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.policy import Significance
from tracker.redline import classify, compare, parse_blocks, render_html
from tracker.redline.diff import is_word, tokens
from tracker.redline.model import BlockChange, Op

WORDS = st.sampled_from(
    [
        "we", "you", "data", "may", "not", "share", "30", "days", "<b>", "&", "Policy",
        "policy,", "sell.", "delete", "2025", "request", "(any)", "third-party",
        "[link](https://x.example)", "**bold**", "email",
    ]
)  # fmt: skip
SENTENCE = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = ["# " + draw(SENTENCE)]
    for _ in range(draw(st.integers(0, 4))):
        parts.append("## " + draw(SENTENCE))
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["p", "p", "ul", "ol", "table"]))
            if kind == "p":
                parts.append(draw(SENTENCE))
            elif kind in ("ul", "ol"):
                marker = "-" if kind == "ul" else "1."
                items = draw(st.lists(SENTENCE, min_size=1, max_size=4))
                parts.append("\n".join(f"{marker} {item}" for item in items))
            else:
                rows = draw(st.lists(st.tuples(WORDS, SENTENCE), min_size=1, max_size=3))
                lines = ["| A | B |", "| --- | --- |"]
                lines += [f"| {x} | {y} |" for x, y in rows]
                parts.append("\n".join(lines))
    return "\n\n".join(parts).replace("| |", "| x |") + "\n"


def _cores(text: str) -> list[str]:
    return [core for core, _ in tokens(text)]


def _side(change: BlockChange, keep: str) -> list[list[str]]:
    """The token cores of one side of a block change, one list per text (or table cell)."""
    block = change.old if keep == "delete" else change.new
    assert block is not None
    if change.cells:
        cells = [
            [c for s in cell if s.op in ("equal", keep) for c in _cores(s.text)]
            for cell in change.cells
        ]
        return [cells[n] for n in range(len(block.cells))]
    if change.segments:
        return [[c for s in change.segments if s.op in ("equal", keep) for c in _cores(s.text)]]
    return [_cores(t) for t in block.cells] if block.cells else [_cores(block.text)]


def _expected(text: str) -> list[list[str]]:
    return [
        part
        for block in parse_blocks(text)
        for part in ([_cores(t) for t in block.cells] if block.cells else [_cores(block.text)])
    ]


@settings(max_examples=150, deadline=None)
@given(documents())
def test_a_text_against_itself_is_unchanged(text: str) -> None:
    redline = compare(text, text)
    assert not redline.changed
    assert redline.sections == []
    assert classify(redline).suggested is Significance.PATCH


@settings(max_examples=300, deadline=None)
@given(documents(), documents())
def test_the_redline_reconstructs_both_texts(old: str, new: str) -> None:
    redline = compare(old, new)
    new_side = [
        part
        for c in redline.blocks
        if c.new is not None and not c.stub
        for part in _side(c, "insert")
    ]
    assert new_side == _expected(new)
    # The old text, in its own order: moved blocks count at their stub, not their new place.
    old_side = [
        part
        for c in redline.blocks
        if c.old is not None and (c.stub or c.op is not Op.MOVED)
        for part in (
            _side(c, "delete")
            if not c.stub
            else [_cores(t) for t in c.old.cells]
            if c.old.cells
            else [_cores(c.old.text)]
        )
    ]
    assert old_side == _expected(old)


@settings(max_examples=200, deadline=None)
@given(documents(), documents())
def test_word_counts_add_up(old: str, new: str) -> None:
    redline = compare(old, new)
    inserted = deleted = 0
    for c in redline.blocks:
        if c.stub:
            continue
        if c.old is None:
            assert c.new is not None
            inserted += sum(is_word(x) for x in _cores(c.new.text))
        elif c.new is None:
            deleted += sum(is_word(x) for x in _cores(c.old.text))
        else:
            for seg in (*c.segments, *(s for cell in c.cells for s in cell)):
                count = sum(is_word(x) for x in _cores(seg.text))
                inserted += count if seg.op == "insert" else 0
                deleted += count if seg.op == "delete" else 0
    assert (inserted, deleted) == (redline.words_inserted, redline.words_deleted)
    assert sum(s.words_inserted for s in redline.sections) == redline.words_inserted
    assert sum(s.words_deleted for s in redline.sections) == redline.words_deleted
    # changed: what a reader reads; a change of form only is formatted, not changed
    assert redline.changed == (
        [b.reading for b in parse_blocks(old)] != [b.reading for b in parse_blocks(new)]
    )
    assert (
        redline.changed
        or redline.formatted
        or ([b.form for b in parse_blocks(old)] == [b.form for b in parse_blocks(new)])
    )
    classify(redline)
    html = render_html(redline)
    assert html.count("<table") == html.count("</table>")
    assert html.count("<ul") == html.count("</ul>")
    assert html.count("<ol") == html.count("</ol>")
    assert "&lt;b&gt;" in html or "<b>" not in old + new


def test_empty_texts() -> None:
    assert not compare("", "").changed
    redline = compare("", "# Title\n\nText.\n")
    assert redline.changed and redline.words_inserted == 2
    assert classify(redline).suggested is Significance.MAJOR
    assert "<ins>Text.</ins>" in render_html(redline)

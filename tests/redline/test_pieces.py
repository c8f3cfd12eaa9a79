"""parse_blocks cuts a text into cached pieces: the blocks must be those of a whole parse."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.redline import compare, parse_blocks
from tracker.redline.blocks import Block, _parse_whole
from tracker.redline.words import count_words, is_word, norm_words, tokens

# Lines that open, continue or close Markdown constructs, so that cuts at blank lines meet
# lists, loose lists, indented code, quotes, tables, setext underlines and lazy lines.
LINES = st.sampled_from(
    [
        "", "", "", "   ", "# Title", "## Section [a](https://a.example)", "#nospace", "Words here",
        "More *words* and [link](https://b.example)", "- item", "* item", "+ item", "1. item",
        "2) item", "10. item", "  continued", "    indented code", "\tTabbed", "> quoted",
        ">", "| a | b |", "| --- | --- |", "| c | d |", "---", "===", "***", "___", "```",
        "~~~", "[ref]: https://r.example", "see [ref]", "<div>", "   - nested", "Setext",
        "-", "* * *", "1.", "_x_ y", "![img](https://i.example/x.png)", "Plain words.",
        "Plain, (quoted) 'words': \"here\"?  ", "Two  spaces  inside", "a/b-c 1.5;",
        "A **b's c** d, *e f* and [g](h.md#i).", "**Lead** words", "*a*b*c*", "x*y* z",
        "[At](https://s.example) start", "## 19. Numbered  heading", "### Closed ###",
        "(*a*) b", "*a **b** c*", "**a*", "[a](javascript:x)", "#### Trailing  ",
    ]
)  # fmt: skip
DOCUMENTS = st.lists(LINES, max_size=30).map(lambda lines: "\n".join(lines) + "\n")


def _full(blocks: list[Block]) -> list[tuple[Block, tuple[str, ...]]]:
    return [(block, block.links) for block in blocks]  # links are left out of Block equality


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS, DOCUMENTS)
@example("- a\n\nb\n\n- c\n", "")
@example("    code\n\nText\n\n    more\n", "# T\n\n- a\n\n  b\n\nc\n")
@example("> a\n\nb\n", "| a |\n| - |\n| b |\n\nc\n")
def test_pieces_parse_like_the_whole_text(first: str, second: str) -> None:
    for text in (first, second, first + "\n" + second, second + "\n\n" + first):
        assert _full(parse_blocks(text)) == _full(_parse_whole(text))


EDITS = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 3), st.lists(LINES, max_size=4)), max_size=4
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=40), EDITS)
@example(["# T", "", "## A", "", "x", "", "## B", "", "x"], [(2, 1, ["## A2"])])
@example(["x", "", "- a", "", "b"], [(4, 1, ["  b"])])
def test_a_text_cut_against_the_one_before_parses_like_the_whole(
    lines: list[str], edits: list[tuple[int, int, list[str]]]
) -> None:
    """Successive versions (a few lines replaced each time) are cut against the version
    before: what is read again and what is taken from it must give a whole parse's blocks."""
    for at, removed, inserted in [(0, 0, []), *edits]:
        lines = lines[:at] + inserted + lines[at + removed :]
        text = "\n".join(lines) + "\n"
        assert _full(parse_blocks(text)) == _full(_parse_whole(text))


def test_unchanged_pieces_give_the_same_blocks() -> None:
    old = "# T\n\n## A\n\nOne two three.\n\n## B\n\nFour five six.\n"
    new = old.replace("Four", "Seven")
    a, b = parse_blocks(old), parse_blocks(new)
    assert a[:4] == b[:4] and all(x is y for x, y in zip(a[:4], b[:4], strict=True))
    assert not compare(old, old.replace("## A", "## A2")).blocks[3].edited


def _tokens_then_filter(text: str) -> list[str]:
    """The words as the classifier first defined them: token cores holding an alphanumeric."""
    return [core.lower() for core, _ in tokens(text) if any(ch.isalnum() for ch in core)]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ9_ .,:/'’-\n²٣é\u0301İ*#|")) | st.text())
def test_word_shortcuts_agree_with_tokens(text: str) -> None:
    assert norm_words(text) == _tokens_then_filter(text)
    assert count_words(text) == len(_tokens_then_filter(text))
    for core, _ in tokens(text):
        assert is_word(core) == any(ch.isalnum() for ch in core)

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

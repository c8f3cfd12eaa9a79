"""Words and punctuation marks: the units of a word diff and of the classifier."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"(\w+(?:[.,:/'’-]\w+)*|[^\w\s])(\s*)")
_WORD = re.compile(r"\w+(?:[.,:/'’-]\w+)*")
# ``\w`` is "alphanumeric or underscore", so this is one alphanumeric character.
_ALNUM = re.compile(r"[^\W_]")


def tokens(text: str) -> list[tuple[str, str]]:
    """Words and punctuation marks of a text, each with its trailing whitespace."""
    return _TOKEN.findall(text)


def is_word(token: str) -> bool:
    """True when a token holds a letter or a digit (a word, not a mark or ``__``)."""
    return _ALNUM.search(token) is not None


def norm_words(text: str) -> list[str]:
    """The words of a text, lower-cased (punctuation marks left out)."""
    # The word cores of ``tokens`` are exactly the matches of ``_WORD``: a mark is never
    # the start of a word, so skipping marks and whitespace finds the same words.
    return [w.lower() for w in _WORD.findall(text) if w.isalnum() or _ALNUM.search(w)]


def count_words(text: str) -> int:
    return sum(1 for w in _WORD.findall(text) if w.isalnum() or _ALNUM.search(w))

"""Accept-Language as browsers send it, and the language the hosted page picks from it."""

from __future__ import annotations

import pytest

from tracker.languages import accepted_languages, choose_language


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        (None, []),
        ("", []),
        ("de", ["de"]),
        ("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", ["de-DE", "de", "en-US", "en"]),
        ("fr;q=0.5, de", ["de", "fr"]),  # weights, not order, decide
        ("en;q=0.5,fr;q=0.5,de;q=0.5", ["en", "fr", "de"]),  # ties keep the header's order
        ("de;q=0, fr", ["fr"]),  # q=0: not acceptable
        ("de;Q=0.300, fr;q=0.2", ["de", "fr"]),  # the parameter name is case-insensitive
        ("de;q=1.000,fr;q=0.999", ["de", "fr"]),
        ("de;q=1.5, fr;q=0.1234, it;q=abc, es;q=, pt", ["pt"]),  # bad weights: skipped
        ("*;q=0.1, pt-BR", ["pt-BR", "*"]),
        ("d e, x-klingon-toolong123, , ;q=1, zh-Hant-TW", ["zh-Hant-TW"]),
        ("de ; q = 0.5 , fr", ["fr", "de"]),  # whitespace around parameters
    ],
)
def test_accept_language_ranges(header: str | None, ranges: list[str]) -> None:
    assert accepted_languages(header) == ranges


def test_a_huge_header_is_read_only_in_part() -> None:
    assert len(accepted_languages(",".join(["de"] * 100_000))) == 50


@pytest.mark.parametrize(
    ("wanted", "chosen"),
    [
        (["de-DE", "fr"], "de"),
        (["ja", "fr-CA", "de"], "fr"),
        (["en-GB", "de"], None),  # the source's language first: the source
        (["*", "de"], None),
        (["ja"], None),
        ([], None),
        (["pt"], "pt-BR"),
    ],
)
def test_the_language_chosen(wanted: list[str], chosen: str | None) -> None:
    assert choose_language(["de", "fr", "pt-BR"], wanted, "en") == chosen

"""Reading the hosted page's answers: what the page can send, and what it cannot."""

from __future__ import annotations

import pytest

from tracker.service.hosted.form import Answers, read_answers

SHOWN = {"policy": ["privacy", "terms"], "version": ["2", "1"], "sha256": ["a" * 64, "b" * 64]}
KEYS = [("privacy", 2, "a" * 64), ("terms", 1, "b" * 64)]


def test_one_answer_per_policy() -> None:
    answers = read_answers(SHOWN | {"decision:terms": ["decline"], "decision:privacy": ["accept"]})
    assert answers == Answers(KEYS, {"privacy": "accept", "terms": "decline"})
    assert answers.missing() == []


def test_a_policy_without_an_answer_is_missing() -> None:
    answers = read_answers(SHOWN | {"decision:privacy": ["decline"]})
    assert answers is not None
    assert answers.missing() == [KEYS[1]]
    assert answers.chosen() == {KEYS[0]: "decline"}


def test_one_decision_answers_every_policy() -> None:
    answers = read_answers(SHOWN | {"decision": ["accept"]})
    assert answers is not None and answers.decisions == {"privacy": "accept", "terms": "accept"}


@pytest.mark.parametrize(
    "form",
    [
        {},  # nothing shown
        {"decision": ["accept"]},
        SHOWN | {"policy": ["privacy", "privacy"]},  # one policy twice
        SHOWN | {"version": ["2"]},
        SHOWN | {"version": ["2", "x"]},
        SHOWN | {"decision:cookies": ["accept"]},
        SHOWN | {"decision:privacy": ["accept", "accept"]},
        SHOWN | {"decision:privacy": ["ok"]},
        SHOWN | {"decision": ["accept", "decline"]},
        SHOWN | {"decision": ["accept"], "decision:terms": ["decline"]},
    ],
)
def test_forms_the_page_cannot_send(form: dict[str, list[str]]) -> None:
    assert read_answers(form) is None

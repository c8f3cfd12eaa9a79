"""What the hosted page's form sends: the policies shown and the user's answer to each.

For each policy the form repeats ``policy``, ``version`` and ``sha256`` (the version shown),
and ``text``: the SHA-256 of the text shown (a translation's, or the version's), in page
order. The answers are ``decision:<slug>`` (``accept`` or ``decline``), one per policy:
the radio groups of a page with several policies. A page with one policy has two buttons that
send ``decision`` alone, which answers every policy on the form; pages rendered before the
per-policy choices (and scripted clients) send it too, so it stays valid for any number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Form value → the event recorded.
DECISIONS = {"accept": "accepted", "decline": "declined"}
BULK = "decision"
PREFIX = "decision:"
MAX_POLICIES = 1000

Key = tuple[str, int, str]


@dataclass(frozen=True)
class Answers:
    """The policies the form showed (slug, version, SHA-256) and the answers it carries."""

    shown: list[Key]
    #: slug → ``accept`` or ``decline``; a policy without an answer is absent.
    decisions: dict[str, str]
    #: The SHA-256 of each text shown, in the order of ``shown``; None from a page rendered
    #: before the page showed translations (it showed the versions themselves).
    texts: list[str] | None = None

    def shown_texts(self) -> list[str]:
        return self.texts if self.texts is not None else [sha for _, _, sha in self.shown]

    def missing(self) -> list[Key]:
        return [key for key in self.shown if key[0] not in self.decisions]

    def chosen(self) -> dict[Key, str]:
        """The answers by policy and version: what to select again if the page is shown again."""
        return {key: self.decisions[key[0]] for key in self.shown if key[0] in self.decisions}


def _shown(form: Mapping[str, list[str]]) -> list[Key] | None:
    slugs, numbers, hashes = form.get("policy", []), form.get("version", []), form.get("sha256", [])
    if not len(slugs) == len(numbers) == len(hashes) or len(slugs) > MAX_POLICIES:
        return None
    if len(set(slugs)) != len(slugs):
        return None
    out = []
    for slug, number, sha in zip(slugs, numbers, hashes, strict=True):
        if not number.isascii() or not number.isdigit() or len(number) > 9:
            return None
        out.append((slug, int(number), sha))
    return out


def read_answers(form: Mapping[str, list[str]]) -> Answers | None:
    """The form's answers, or None when it is not one the page could have sent."""
    shown = _shown(form)
    if not shown:
        return None
    slugs = {slug for slug, _, _ in shown}
    bulk = form.get(BULK)
    decisions: dict[str, str] = {}
    for name, values in form.items():
        if not name.startswith(PREFIX):
            continue
        slug = name.removeprefix(PREFIX)
        if slug not in slugs or len(values) != 1 or values[0] not in DECISIONS:
            return None
        decisions[slug] = values[0]
    if bulk is not None:
        if decisions or len(bulk) != 1 or bulk[0] not in DECISIONS:
            return None
        decisions = dict.fromkeys(slugs, bulk[0])
    texts = form.get("text")
    if texts is not None and len(texts) != len(shown):
        return None
    return Answers(shown, decisions, texts)

"""Status in the reader's language (``GET /v1/users/{id}/status?locale=de``).

Each policy of the answer gains ``translation``: the text in the language that serves
``locale`` (``de-DE`` is served by ``de``), its address on the site, the source version it
translates and whether it is current (``current``, ``behind``, ``stale``: one rule,
:mod:`tracker.languages`); null when the policy's source is in that language (its ``language``,
``en`` unless its front matter says otherwise), when it has no text in that language, or that text
was withdrawn (its file deleted, or the policy withdrawn with it). The answer
names the ``locale`` it was asked for. Everything but the user's consents is the same for
every user, so each policy's part is computed once per catalog, day and locale.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tracker.answers.notices import translated_redline
from tracker.answers.status import InLocale, in_locale
from tracker.contract.fields import LANGUAGE_TAG
from tracker.languages import serving_language, staleness
from tracker.service.problems import FieldError
from tracker.store import PolicyInfo, Snapshot

_LOCALE = re.compile(LANGUAGE_TAG)


def checked_locale(value: str) -> str:
    """A ``locale`` query parameter, or a 422 naming it."""
    if not 1 <= len(value) <= 64 or not _LOCALE.fullmatch(value):
        raise FieldError("locale", "must be a language tag such as de, de-DE or pt-BR")
    return value


#: Per catalog snapshot, day, locale and site: what status in that locale adds to an answer.
#: Keyed by the snapshot's id, not only its revision (two stores, in tests, reach the same
#: revision); an entry's ``redline`` holds its snapshot, so that id is not reused meanwhile.
_cache: dict[tuple[int, int, date, str, str], InLocale] = {}


def translation_answer(
    snapshot: Snapshot, policy: PolicyInfo, today: date, locale: str, site_url: str
) -> dict[str, Any] | None:
    """The text of ``policy`` in ``locale``'s language, or None when it has none."""
    # a withdrawn translation is never the text a reader is sent to
    by_language = {
        language: versions
        for language, versions in snapshot.translations.get(policy.id, {}).items()
        if versions[-1].withdrawn_at is None
    }
    language = serving_language(by_language, locale, policy.language)
    if language is None or not policy.versions:
        return None
    latest = by_language[language][-1]
    in_force = policy.current(today) or policy.versions[-1]
    state = staleness(latest.translates, in_force.number, [v.significance for v in policy.versions])
    return {
        "language": language,
        "url": f"{site_url.rstrip('/')}/{language}/{policy.slug}/",
        "version": latest.number,
        "translates": latest.translates,
        "sha256": latest.sha256,
        "state": str(state.state),
        "current": state.current,
    }


def status_locale(snapshot: Snapshot, today: date, locale: str, site_url: str) -> InLocale:
    """What status in ``locale`` adds to an answer (``tracker.answers.status.InLocale``):
    each policy's translation and each pending notice's redline in that language
    (``translated_redline``), computed once per catalog, day, locale and site."""
    key = (id(snapshot), snapshot.revision, today, locale, site_url)
    found = _cache.get(key)
    if found is None:
        if len(_cache) > 64:
            _cache.clear()
        redlines: dict[tuple[int, int, int], dict[str, Any] | None] = {}

        def redline(policy_id: int, old: int, new: int) -> dict[str, Any] | None:
            span = (policy_id, old, new)
            if span not in redlines:
                redlines[span] = translated_redline(snapshot, *span, locale, site_url)
            return redlines[span]

        parts = {
            p.id: translation_answer(snapshot, p, today, locale, site_url)
            for p in snapshot.policies
        }
        found = _cache[key] = in_locale(locale, parts, redline)
    return found

"""Status in the reader's language (``GET /v1/users/{id}/status?locale=de``).

Each policy of the answer gains ``translation``: the text in the language that serves
``locale`` (``de-DE`` is served by ``de``), its address on the site, the source version it
translates and whether it is current (``current``, ``behind``, ``stale``: one rule,
:mod:`tracker.languages`); null when the policy has no text in that language, or that text
was withdrawn (its file deleted, or the policy withdrawn with it). The answer
names the ``locale`` it was asked for. Everything but the user's consents is the same for
every user, so each policy's part is computed once per catalog, day and locale.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import orjson

from tracker.answers.notices import translated_redline
from tracker.contract.fields import LANGUAGE_TAG
from tracker.languages import best_language, staleness
from tracker.service.problems import FieldError
from tracker.store import PolicyInfo, Snapshot

_LOCALE = re.compile(LANGUAGE_TAG)


def checked_locale(value: str) -> str:
    """A ``locale`` query parameter, or a 422 naming it."""
    if not 1 <= len(value) <= 64 or not _LOCALE.fullmatch(value):
        raise FieldError("locale", "must be a language tag such as de, de-DE or pt-BR")
    return value


#: Per catalog, day, locale and site: each policy's translation (by policy id) and each
#: notice's redline in that language (by policy id, from and to version).
_cache: dict[tuple[int, date, str, str], dict[Any, Any]] = {}


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
    language = best_language(by_language, locale)
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


def with_locale(body: bytes, snapshot: Snapshot, today: date, locale: str, site_url: str) -> bytes:
    """A status answer (``{"user_id", "policies": […]}``) with each policy's translation,
    and each pending notice's redline in that language (``translated_redline``)."""
    key = (snapshot.revision, today, locale, site_url)
    parts = _cache.get(key)
    if parts is None:
        if len(_cache) > 64:
            _cache.clear()
        parts = _cache[key] = {
            p.id: translation_answer(snapshot, p, today, locale, site_url)
            for p in snapshot.policies
        }
    data = orjson.loads(body)
    data["locale"] = locale
    for entry in data["policies"]:
        policy_id = snapshot.policy(entry["policy"]).id
        entry["translation"] = parts.get(policy_id)
        for notice in entry.get("notices") or ():
            span = (policy_id, notice["from_version"], notice["to_version"])
            if span not in parts:
                parts[span] = translated_redline(snapshot, *span, locale, site_url)
            notice["translation"] = parts[span]
    return orjson.dumps(data)

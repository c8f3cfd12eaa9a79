"""Languages: BCP 47 tags of translation files, and how far a translation is behind.

A translation is a file beside its policy with a language suffix (``policy/privacy.de.md``,
``policy/privacy.pt-BR.md``). Nothing here knows of versions or git: the rules take plain
values, so the history, the site, the store and the service share them.

Staleness of a translation (``current``, ``behind``, ``stale``)
---------------------------------------------------------------
A translation is *current* when its latest version translates the source version in force
(or an upcoming one), *behind* when the source has newer ``patch`` versions only, and
*stale* when a newer ``minor`` or ``major`` source version exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

#: ISO 639-1 language codes (the primary subtag of a tag must be one of them).
_CODES = """\
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
vi vo wa wo xh yi yo za zh zu
"""
_ISO_639_1 = frozenset(_CODES.split())

#: Names readers see in the language switcher and banners (in the language itself), and in
#: English for the banner of a stale translation ("The English text changed on …").
_NAMES = {
    "ar": ("العربية", "Arabic"),
    "cs": ("Čeština", "Czech"),
    "da": ("Dansk", "Danish"),
    "de": ("Deutsch", "German"),
    "el": ("Ελληνικά", "Greek"),
    "en": ("English", "English"),
    "es": ("Español", "Spanish"),
    "fi": ("Suomi", "Finnish"),
    "fr": ("Français", "French"),
    "it": ("Italiano", "Italian"),
    "ja": ("日本語", "Japanese"),
    "ko": ("한국어", "Korean"),
    "nl": ("Nederlands", "Dutch"),
    "no": ("Norsk", "Norwegian"),
    "pl": ("Polski", "Polish"),
    "pt": ("Português", "Portuguese"),
    "ro": ("Română", "Romanian"),
    "ru": ("Русский", "Russian"),
    "sv": ("Svenska", "Swedish"),
    "tr": ("Türkçe", "Turkish"),
    "uk": ("Українська", "Ukrainian"),
    "zh": ("中文", "Chinese"),
}

_TAG = re.compile(
    r"^(?P<language>[A-Za-z]{2})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)$"
)

DEFAULT_LANGUAGE = "en"


class LanguageError(ValueError):
    """A tag that is malformed or names no language (the message says which)."""


def canonical_tag(tag: str) -> str:
    """``pt-br`` → ``pt-BR``, ``zh-hant`` → ``zh-Hant``; raise :class:`LanguageError`."""
    match = _TAG.match(tag)
    if match is None:
        raise LanguageError(
            f"malformed language tag {tag!r}; use a BCP 47 tag such as de, fr or pt-BR"
        )
    language = match.group("language").lower()
    if language not in _ISO_639_1:
        raise LanguageError(
            f"unknown language {tag!r}; the tag must start with an ISO 639-1 code such as de"
        )
    parts = [language]
    if match.group("script"):
        parts.append(match.group("script").title())
    if match.group("region"):
        parts.append(match.group("region").upper())
    parts.extend(v.lower() for v in match.group("variants").split("-") if v)
    return "-".join(parts)


def native_name(tag: str) -> str:
    """What the language calls itself (``Deutsch``), with the region when there is one."""
    name = _NAMES.get(tag.split("-")[0], (tag, tag))[0]
    return name if "-" not in tag else f"{name} ({tag})"


def english_name(tag: str) -> str:
    return _NAMES.get(tag.split("-")[0], (tag, tag))[1]


def split_translation_path(path: str, source: str) -> tuple[str, str] | None:
    """``policy/privacy.de.md`` → (``privacy``, ``de``) as written (not checked), or None when
    ``path`` is no translation (no language suffix, or not a Markdown file under ``source``)."""
    prefix = source.strip("/") + "/"
    if not path.startswith(prefix) or not path.endswith(".md"):
        return None
    stem = path[len(prefix) : -len(".md")]
    folder, _, name = stem.rpartition("/")
    base, dot, tag = name.rpartition(".")
    if not dot or not base:
        return None
    return (f"{folder}/{base}" if folder else base).lower(), tag


# ---------------------------------------------------------------------------
# Staleness


class Freshness(StrEnum):
    CURRENT = "current"
    BEHIND = "behind"
    STALE = "stale"


@dataclass(frozen=True)
class Staleness:
    """How a translation stands against its source on a day.

    ``translates``: the source version its latest version renders; ``source``: the source
    version in force (the latest when none is yet); ``since``: the first newer source
    version that makes it behind or stale (None when current).
    """

    state: Freshness
    translates: int
    source: int
    since: int | None

    @property
    def current(self) -> bool:
        return self.state is Freshness.CURRENT


def staleness(translates: int, in_force: int, significances: Sequence[str]) -> Staleness:
    """The state of a translation of source version ``translates`` when ``in_force`` governs;
    ``significances[n - 1]`` is source version n's significance (``patch``, ``minor``,
    ``major``)."""
    if translates >= in_force:
        return Staleness(Freshness.CURRENT, translates, in_force, None)
    newer = range(translates + 1, len(significances) + 1)
    material = [n for n in newer if significances[n - 1] != "patch"]
    if material:
        return Staleness(Freshness.STALE, translates, in_force, material[0])
    return Staleness(Freshness.BEHIND, translates, in_force, translates + 1)


def best_language(available: Iterable[str], wanted: str) -> str | None:
    """The available tag that serves a reader asking for ``wanted`` (``de_DE``, ``de-de``):
    the same tag, else its language alone, else another region of that language."""
    tags = list(available)
    want = wanted.strip().replace("_", "-").lower()
    if not want:
        return None
    by_lower = {t.lower(): t for t in tags}
    primary = want.split("-")[0]
    if want in by_lower:
        return by_lower[want]
    if primary in by_lower:
        return by_lower[primary]
    return next((t for t in sorted(tags) if t.lower().split("-")[0] == primary), None)


# ---------------------------------------------------------------------------
# Accept-Language (RFC 9110 §12.5.4, RFC 4647 language ranges)

_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")
#: What of a header is read: browsers send a handful of ranges; a huge header costs nothing.
_HEADER_LIMIT = 4096
_RANGES_LIMIT = 50


def accepted_languages(header: str | None) -> list[str]:
    """The language ranges of an ``Accept-Language`` header, most wanted first.

    Weights (``q=0.8``) order them, and ranges of equal weight keep the header's order; a
    range with ``q=0`` is "not acceptable" and left out. A malformed entry (a bad range or
    weight) is skipped rather than spoiling the rest: the header only states preferences.
    """
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, entry in enumerate(header[:_HEADER_LIMIT].split(",")[:_RANGES_LIMIT]):
        name, *params = (part.strip() for part in entry.split(";"))
        if not name:
            continue
        if not _RANGE.match(name):
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else -1.0
        if weight > 0:
            weighted.append((-weight, index, name))
    return [name for _, _, name in sorted(weighted)]


def serving_language(available: Iterable[str], wanted: str, source: str) -> str | None:
    """The translation (one of ``available``) that serves a reader asking for ``wanted``,
    or None when the source, in language ``source``, serves them or nothing does.

    The source is a candidate like the translations (:func:`best_language`), and wins a tie:
    ``de-CH`` is served by a ``de`` source before its ``de-AT`` translation, ``en-GB`` by an
    ``en-GB`` translation before its ``en`` source."""
    tags = [t for t in available if t.lower() != source.lower()]
    found = best_language([*tags, source], wanted)
    if found is None or found == source:
        return None
    want = wanted.strip().replace("_", "-").lower()
    primary = want.split("-")[0]
    by_region = found.lower() not in (want, primary)  # not the tag asked for, nor its language
    if by_region and source.lower().split("-")[0] == primary:
        return None
    return found


def choose_language(available: Iterable[str], wanted: Iterable[str], source: str) -> str | None:
    """The available translation that serves the first of ``wanted`` it can
    (:func:`serving_language`), or None for the source: when the source serves one first,
    when ``*`` comes first, or when nothing wanted is available."""
    tags = list(available)
    for want in wanted:
        if want == "*" or best_language([*tags, source], want) is not None:
            return None if want == "*" else serving_language(tags, want, source)
    return None

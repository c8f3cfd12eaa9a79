"""What the hosted page shows: the policies a user must accept, each with the changes since the
version they accepted (or the full text), rendered with the site's stylesheet.

Each policy is shown in the reader's language when it has a text of the version to accept
in one they want: the link's ``locale`` first, then the browser's ``Accept-Language`` (by
weight), else the source, in its own language (the policy's ``language``): a reader who wants
that language first is shown the source (:func:`tracker.languages.choose_language`). That
text's SHA-256 goes into the form, and the event recorded is bound to it; the page and each
text say their language (``lang``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import jinja2
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import html
from tracker.answers.status import policy_status
from tracker.html import human_date
from tracker.languages import accepted_languages, choose_language, english_name, native_name
from tracker.redline import compare, render_html
from tracker.store.catalog import PolicyInfo, Snapshot, VersionInfo
from tracker.store.links import KeyApp, Link
from tracker.store.models import VersionRow
from tracker.store.status import NO_CONSENT, consents_for
from tracker.store.translations import TranslationInfo, translation_of, translation_texts

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_HEADING = re.compile(r"<(/?)h([1-6])\b")
_ANCHOR = re.compile(r'(\bid="|\bhref="#)')


@dataclass(frozen=True)
class Item:
    """One policy to accept: the version in force and the one the user last accepted."""

    policy: PolicyInfo
    version: VersionInfo
    accepted: VersionInfo | None
    state: str
    #: The text of ``version`` in the reader's language; None: the source is shown.
    shown: TranslationInfo | None = None
    #: The language the reader wants first when it has a text of the policy, but none of
    #: this version yet (the source is shown instead).
    behind: str | None = None

    @property
    def language(self) -> str:
        """The language of the text shown: the translation's, else the source's."""
        return self.shown.language if self.shown is not None else self.policy.language

    @property
    def text_sha256(self) -> str:
        """The SHA-256 of the text shown (the form carries it back)."""
        return self.shown.sha256 if self.shown is not None else self.version.sha256

    @property
    def changes(self) -> list[VersionInfo]:
        """Versions published since the accepted one, up to the one in force."""
        low = self.accepted.number if self.accepted is not None else 0
        return [v for v in self.policy.versions if low < v.number <= self.version.number]

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.policy.slug, self.version.number, self.version.sha256)


def pending(
    session: Session,
    snapshot: Snapshot,
    link: Link,
    today: date,
    accept_language: str | None = None,
) -> list[Item]:
    """The policies the link's user must accept now (those the link names, if it names any),
    each in the language chosen for the reader (see the module docstring)."""
    languages = [link.locale] if link.locale else []
    languages += accepted_languages(accept_language)
    wanted = set(link.policies) if link.policies is not None else None
    consents = consents_for(session, [link.user_id])
    items = []
    for policy in snapshot.policies:
        if wanted is not None and policy.slug not in wanted:
            continue
        current = policy.current(today)
        if current is None:
            continue
        consent = consents.get((link.user_id, policy.id), NO_CONSENT)
        status = policy_status(policy, consent, today, snapshot)
        if not status["needs_acceptance"]:
            continue
        accepted = snapshot.versions.get(consent.accepted_version_id or -1)
        item = Item(policy, current, accepted, str(status["state"]))
        items.append(_in_language(snapshot, item, languages))
    return items


def _in_language(snapshot: Snapshot, item: Item, languages: list[str]) -> Item:
    by_language = snapshot.translations.get(item.policy.id, {})
    number = item.version.number
    of_version = [tag for tag, vs in by_language.items() if any(t.translates == number for t in vs)]
    source = item.policy.language
    language = choose_language(of_version, languages, source)
    if language is not None:
        shown = translation_of(
            snapshot.translations, item.policy.id, number, language, source=source
        )
        return replace(item, shown=shown)
    first = choose_language(by_language, languages[:1], source)
    return replace(item, behind=first) if first is not None else item


def source_url(site_url: str, slug: str, number: int) -> str:
    """The source text of a version on the site (root-relative without a site)."""
    return f"{site_url.rstrip('/')}/{slug}/v{number}/"


def _texts(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(VersionRow.id, VersionRow.text).where(VersionRow.id.in_(ids)))
    return {r.id: r.text for r in rows}


def _demote(html: str, prefix: str) -> str:
    """Fit a policy's HTML under the page's h1 and h2, with ids unique on the page."""
    html = _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}", html)
    return _ANCHOR.sub(lambda m: f"{m[1]}{prefix}-", html)


class Body(NamedTuple):
    html: str
    #: The changes since the accepted version (else the full text).
    redline: bool


def bodies(session: Session, snapshot: Snapshot, items: list[Item]) -> list[Body]:
    """Each item's HTML: the redline from the accepted version, or the full text; in the
    language shown (a redline there when the accepted version has a text in it too)."""
    ids = {i.version.id for i in items} | {i.accepted.id for i in items if i.accepted}
    texts = _texts(session, ids)
    before: dict[int, TranslationInfo | None] = {}
    for i in items:
        if i.shown is not None and i.accepted is not None:
            before[i.shown.id] = translation_of(
                snapshot.translations,
                i.policy.id,
                i.accepted.number,
                i.shown.language,
                source=i.policy.language,
            )
    wanted = {i.shown.id for i in items if i.shown} | {t.id for t in before.values() if t}
    translated = translation_texts(session, wanted)
    out = []
    for n, item in enumerate(items):
        new = texts.get(item.version.id, "")
        old = texts.get(item.accepted.id, "") if item.accepted is not None else None
        if item.shown is not None:
            new = translated.get(item.shown.id, "")
            earlier = before.get(item.shown.id)
            old = translated.get(earlier.id, "") if earlier is not None else None
        changed = item.accepted is not None and item.accepted.id != item.version.id
        if old is not None and changed:
            out.append(Body(_demote(render_html(compare(old, new)), f"p{n}"), True))
        else:
            out.append(Body(_demote(_MD.render(new), f"p{n}"), False))
    return out


def _luminance(hex_color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else float(((s + 0.055) / 1.055) ** 2.4)

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def on_color(hex_color: str) -> str:
    """Black or white, whichever reads better on ``hex_color`` (WCAG contrast)."""
    lum = _luminance(hex_color)
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#ffffff"


DEFAULT_BRAND = "#4051b5"  # the site's (MkDocs Material indigo) header colour


def branding(app: KeyApp | None) -> dict[str, str]:
    brand = (app.brand_color if app else None) or DEFAULT_BRAND
    return {"brand": brand, "on_brand": on_color(brand)}


@cache
def stylesheet() -> str:
    site = resources.files("tracker.publish").joinpath("assets/policy-tracker.css")
    page = resources.files("tracker.service.hosted").joinpath("templates/hosted.css")
    return site.read_text(encoding="utf-8") + "\n" + page.read_text(encoding="utf-8")


@cache
def environment() -> jinja2.Environment:
    env = html.environment("tracker.service.hosted")
    env.filters["human_date"] = human_date
    env.filters["native_name"] = native_name
    env.filters["english_name"] = english_name
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(css=stylesheet(), **context)

"""What the hosted page shows: the policies a user must accept, each with the changes since the
version they accepted (or the full text), rendered with the site's stylesheet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import html
from tracker.answers.status import policy_status
from tracker.html import human_date
from tracker.redline import compare, render_html
from tracker.store.catalog import PolicyInfo, Snapshot, VersionInfo
from tracker.store.links import KeyApp, Link
from tracker.store.models import VersionRow
from tracker.store.status import NO_CONSENT, consents_for

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

    @property
    def changes(self) -> list[VersionInfo]:
        """Versions published since the accepted one, up to the one in force."""
        low = self.accepted.number if self.accepted is not None else 0
        return [v for v in self.policy.versions if low < v.number <= self.version.number]

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.policy.slug, self.version.number, self.version.sha256)


def pending(session: Session, snapshot: Snapshot, link: Link, today: date) -> list[Item]:
    """The policies the link's user must accept now (those the link names, if it names any)."""
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
        items.append(Item(policy, current, accepted, str(status["state"])))
    return items


def _texts(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(VersionRow.id, VersionRow.text).where(VersionRow.id.in_(ids)))
    return {r.id: r.text for r in rows}


def _demote(html: str, prefix: str) -> str:
    """Fit a policy's HTML under the page's h1 and h2, with ids unique on the page."""
    html = _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}", html)
    return _ANCHOR.sub(lambda m: f"{m[1]}{prefix}-", html)


def bodies(session: Session, items: list[Item]) -> list[str]:
    """Each item's HTML: the redline from the accepted version, or the full text."""
    ids = {i.version.id for i in items} | {i.accepted.id for i in items if i.accepted}
    texts = _texts(session, ids)
    out = []
    for n, item in enumerate(items):
        new = texts.get(item.version.id, "")
        if item.accepted is not None and item.accepted.id != item.version.id:
            html = render_html(compare(texts.get(item.accepted.id, ""), new))
        else:
            html = _MD.render(new)
        out.append(_demote(html, f"p{n}"))
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
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(css=stylesheet(), **context)

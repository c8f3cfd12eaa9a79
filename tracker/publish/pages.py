"""Page builders: the Markdown source of each generated page and the HTML around it.

The policy text of a page is Markdown that MkDocs renders like any other page (so the
theme, table of contents and search treat it normally); headers, banners, tables and
redlines are Jinja templates shipped in ``templates/`` and put in place once MkDocs has
turned the Markdown into HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html import escape as escape_html
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from tracker import redline
from tracker.publish import site
from tracker.publish.site import Kind, PageSpec, SitePlan
from tracker.redline.comments import strip_comments

Link = Callable[[str], str]

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+!|])")
_REDLINES = (Kind.REDLINE, Kind.DRAFT_CHANGES)
_FIRST_H1_END = re.compile(r"</h1>", re.IGNORECASE)


def human_date(value: date) -> str:
    """``2024-03-05`` → ``5 March 2024`` (locale-independent, unambiguous)."""
    return f"{value.day} {value:%B %Y}"


def _heading(text: str) -> str:
    return "# " + _MARKDOWN_SPECIALS.sub(r"\\\1", text) + "\n"


class Redlines:
    """Redlines between texts, computed once per pair of texts (cached across rebuilds)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[redline.Redline, str]] = {}

    def get(self, old: str, new: str) -> tuple[redline.Redline, str]:
        key = (old, new)
        found = self._cache.get(key)
        if found is None:
            diff = redline.compare(old, new)
            found = (diff, redline.render_html(diff))
            self._cache[key] = found
        return found

    def forget_except(self, keep: set[tuple[str, str]]) -> None:
        """Drop pairs no longer on the site, so that a long ``mkdocs serve`` stays small."""
        for key in [k for k in self._cache if k not in keep]:
            del self._cache[key]


class PageBuilder:
    """Renders the pages of one site plan."""

    def __init__(self, plan: SitePlan, *, banner_days: int, feed: bool, redlines: Redlines):
        self.plan = plan
        self.banner_days = banner_days
        self.feed = feed
        self.redlines = redlines
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("tracker.publish", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
        )
        self.env.filters["human_date"] = human_date
        self.env.globals.update(
            current_uri=site.current_uri,
            version_uri=site.version_uri,
            redline_uri=site.redline_uri,
            history_uri=site.history_uri,
            draft_uri=site.draft_uri,
            draft_changes_uri=site.draft_changes_uri,
            banner_days=banner_days,
        )

    def redline_keys(self) -> set[tuple[str, str]]:
        """The (old text, new text) pairs of every redline page of the plan."""
        return {self._texts(spec) for spec in self.plan if spec.kind in _REDLINES}

    # -- Markdown sources -------------------------------------------------------------

    def source(self, spec: PageSpec) -> str:
        """The Markdown (with front matter) of a generated page."""
        meta: dict[str, Any] = {"title": spec.title}
        if not spec.searchable:
            meta["search"] = {"exclude": True}
        if spec.kind in (Kind.CURRENT, Kind.VERSION):
            assert spec.version is not None
            body = strip_comments(spec.version.text)  # comments are for editors only
        elif spec.kind is Kind.DRAFT:
            assert spec.view is not None and spec.view.draft is not None
            body = strip_comments(spec.view.draft.text)
        else:
            body = _heading(spec.title)
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        return f"---\n{front}---\n\n{body}"

    # -- HTML around the rendered Markdown ----------------------------------------

    def decorate(self, spec: PageSpec, html: str, url: Link, url_static: Link) -> str:
        """Put the page's header, banners, tables or redline around MkDocs' HTML."""
        context: dict[str, Any] = {"spec": spec, "view": spec.view, "url": url}
        if spec.kind is Kind.INDEX:
            fragment = self._render(
                "index.html",
                context,
                views=self.plan.views,
                url_static=url_static,
                feed=self.feed,
                as_of=self.plan.as_of,
            )
            return html + fragment
        if spec.kind is Kind.CURRENT:
            fragment = self._render("current.html", context)
        elif spec.kind is Kind.VERSION:
            fragment = self._render("version.html", context, version=spec.version)
        elif spec.kind is Kind.HISTORY:
            fragment = self._render("history.html", context)
        elif spec.kind is Kind.DRAFT:
            fragment = self._render("draft.html", context)
        else:
            fragment = self._redline(spec, context)
        return _after_first_h1(html, fragment)

    def _redline(self, spec: PageSpec, context: dict[str, Any]) -> str:
        diff, body = self.redlines.get(*self._texts(spec))
        classification = redline.classify(diff) if spec.kind is Kind.DRAFT_CHANGES else None
        return self._render(
            "redline.html",
            context,
            version=spec.version,
            base=spec.base,
            classification=classification,
            redline=Markup(body),
        )

    @staticmethod
    def _texts(spec: PageSpec) -> tuple[str, str]:
        assert spec.view is not None
        old = spec.base.text if spec.base is not None else ""
        if spec.kind is Kind.DRAFT_CHANGES:
            assert spec.view.draft is not None
            return old, spec.view.draft.text
        assert spec.version is not None
        return old, spec.version.text

    def _render(self, name: str, context: dict[str, Any], **more: Any) -> str:
        return self.env.get_template(name).render(**context, **more)


def _after_first_h1(html: str, fragment: str) -> str:
    match = _FIRST_H1_END.search(html)
    if match is None:
        return fragment + html
    return html[: match.end()] + "\n" + fragment + html[match.end() :]


def redirect_html(target: str) -> str:
    """A page that sends readers (and search engines) from an old address to the new one."""
    href = escape_html(target, quote=True)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>Moved</title><link rel="canonical" href="{href}">'
        f'<meta http-equiv="refresh" content="0; url={href}"></head>'
        f'<body><p>This policy moved: <a href="{href}">{href}</a>.</p></body></html>\n'
    )

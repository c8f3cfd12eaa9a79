"""Page builders: the Markdown source of each generated page and the HTML around it.

The policy text of a page is Markdown that MkDocs renders like any other page (so the
theme, table of contents and search treat it normally); headers, banners, tables and
redlines are Jinja templates shipped in ``templates/`` and put in place once MkDocs has
turned the Markdown into HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape as escape_html
from typing import Any

import jinja2
import yaml
from markupsafe import Markup

from tracker import redline
from tracker.cache import Cache
from tracker.history.links import Resolver
from tracker.html import human_date
from tracker.languages import english_name
from tracker.publish import site
from tracker.publish.site import Kind, PageSpec, SitePlan
from tracker.redline.cached import redline_html
from tracker.redline.comments import strip_comments

Link = Callable[[str], str]

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+!|])")
_REDLINES = (Kind.REDLINE, Kind.DRAFT_CHANGES)
_FIRST_H1_END = re.compile(r"</h1>", re.IGNORECASE)


def sentence(text: str) -> str:
    """A summary as a sentence, so that the next one does not run on from it."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…:;)" else text + "."


def _heading(text: str) -> str:
    return "# " + _MARKDOWN_SPECIALS.sub(r"\\\1", text) + "\n"


class Redlines:
    """Redlines between texts: rendered once per pair of texts, kept in memory across
    ``mkdocs serve`` rebuilds and on disk in ``cache`` across runs."""

    def __init__(self, cache: Cache | None = None) -> None:
        self._html: dict[tuple[str, str], str] = {}
        self.cache = cache or Cache(None)

    def html(self, old: str, new: str) -> str:
        found = self._html.get((old, new))
        if found is None:
            found = self._html[(old, new)] = redline_html(self.cache, old, new)
        return found

    def forget_except(self, keep: set[tuple[str, str]]) -> None:
        """Drop pairs no longer on the site, so that a long ``mkdocs serve`` stays small."""
        for key in [k for k in self._html if k not in keep]:
            del self._html[key]


class PageBuilder:
    """Renders the pages of one site plan."""

    def __init__(
        self,
        plan: SitePlan,
        *,
        banner_days: int,
        feed: bool,
        redlines: Redlines,
        source: str = "policy",
    ):
        self.plan = plan
        self.links = Resolver([v.policy for v in plan.views], source)
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
        self.env.filters["sentence"] = sentence
        self.env.globals.update(
            current_uri=site.current_uri,
            version_uri=site.version_uri,
            redline_uri=site.redline_uri,
            history_uri=site.history_uri,
            draft_uri=site.draft_uri,
            draft_changes_uri=site.draft_changes_uri,
            banner_days=banner_days,
            english_name=english_name,
        )

    def redline_keys(self) -> set[tuple[str, str]]:
        """The (old text, new text) pairs of every redline page of the plan."""
        return {self._texts(spec) for spec in self.plan if spec.kind in _REDLINES}

    # -- Markdown sources -------------------------------------------------------------

    def source(self, spec: PageSpec, url: Link) -> str:
        """The Markdown (with front matter) of a generated page; ``url`` gives another
        generated page's address relative to this one (links between policies)."""
        meta: dict[str, Any] = {"title": spec.title}
        if not spec.searchable:
            meta["search"] = {"exclude": True}
        if spec.kind in (Kind.CURRENT, Kind.VERSION):
            assert spec.version is not None and spec.view is not None
            version = spec.version
            in_force = spec.kind is Kind.CURRENT or spec.view.status(version) != "archived"
            body = self.links.rewrite(
                strip_comments(version.text),  # comments are for editors only
                path=version.path,
                at=version,
                current=in_force,
                url=url,
            )
        elif spec.kind is Kind.DRAFT:
            assert spec.view is not None and spec.view.draft is not None
            draft = spec.view.draft
            body = self.links.rewrite(
                strip_comments(draft.text), path=draft.path, at=None, current=True, url=url
            )
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
        old, new = self._texts(spec)
        body = self.redlines.html(old, new)
        classification = (
            redline.classify(redline.compare(old, new)) if spec.kind is Kind.DRAFT_CHANGES else None
        )
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


_HTML_LANG = re.compile(r'<html lang="[^"]*"')


def languages_in_head(html: str, spec: PageSpec, href: Link) -> str:
    """A page in several languages: ``hreflang`` links join a current page to its other
    languages, and a policy's pages say the language of its text (``<html lang="de">``): a
    translation's, or the source's own (front matter ``language``), not the theme's."""
    v = spec.view
    assert v is not None
    language = v.language or v.source_language
    html = _HTML_LANG.sub(f'<html lang="{language}"', html, count=1)
    if spec.kind is not Kind.CURRENT or not v.alternates:
        return html
    links = "".join(
        f'<link rel="alternate" hreflang="{a.language}" href="{escape_html(href(a.uri))}">'
        for a in v.alternates
    )
    return html.replace("</head>", links + "</head>", 1)

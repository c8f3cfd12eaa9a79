"""The generator both ways of building the site share: what the site holds, as files.

:func:`prepare` reads the history and plans the site for the plugin's options;
:func:`static_files` gives the files that are not pages (stylesheet, ``versions.json`` and
its schema, ``feed.xml``) and :func:`redirect_files` the pages that send old addresses to new
ones. The MkDocs plugin hands these to MkDocs; ``policy-tracker site`` writes them, with
:func:`page_files` (every page as Markdown with its header, banners, tables or redline in
it as HTML), so that any engine reading ``mkdocs.yml`` builds the same site without the
plugin.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from tracker import history
from tracker.cache import Cache
from tracker.publish import feed, site, versions
from tracker.publish.config import PolicyTrackerConfig, resolve_as_of, resolve_drafts
from tracker.publish.pages import PageBuilder, Redlines, redirect_html
from tracker.publish.site import Kind, SitePlan
from tracker.publish.zone import localise
from tracker.redline.cached import cached_classifier

CSS_URI = "assets/policy-tracker/policy-tracker.css"
VERSIONS_URI = "versions.json"
FEED_URI = "feed.xml"

Link = Callable[[str], str]


@dataclass(frozen=True)
class Generated:
    """One generated file: its path under ``docs_dir`` and its content."""

    uri: str
    text: str
    in_nav: bool = False


def prepare(
    repository: str,
    options: PolicyTrackerConfig,
    zone: ZoneInfo,
    *,
    command: str,
    redlines: Redlines,
) -> PageBuilder:
    """The site plan of ``repository`` for ``options`` today (or as of the day they say),
    and the page builder for it."""
    cache = Cache.for_repository(repository) if options.cache else Cache(None)
    as_of = resolve_as_of(options.as_of, os.environ, datetime.now(zone).date())
    drafts = resolve_drafts(options.drafts, os.environ, command)
    catalog = history.read_catalog(
        repository,
        source=options.source,
        ref=options.ref,
        drafts=drafts,
        classify=cached_classifier(cache),
        zone=zone,
    )
    plan = site.plan(localise(catalog, zone), as_of, drafts=drafts, index_page=options.index_page)
    redlines.cache = cache
    return PageBuilder(
        plan,
        banner_days=options.banner_days,
        feed=options.feed,
        redlines=redlines,
        source=options.source,
    )


def static_files(
    plan: SitePlan, url: Link, *, site_name: str, site_url: str | None, feed_on: bool
) -> Iterator[Generated]:
    """The stylesheet, ``versions.json`` and its schema, and ``feed.xml``; ``url`` gives the
    address of a page's ``src_uri`` as these files link to it."""
    css = resources.files("tracker.publish").joinpath("assets/policy-tracker.css")
    yield Generated(CSS_URI, css.read_text(encoding="utf-8"))
    yield Generated(versions.SCHEMA_NAME, versions.schema_text())
    yield Generated(VERSIONS_URI, versions.dumps(versions.build(plan, url, site_url=site_url)))
    if feed_on:
        yield Generated(FEED_URI, feed.build(plan, url, site_name=site_name, site_url=site_url))


def absolute(site_url: str | None, path: str) -> str:
    """A page's address in ``versions.json`` and the feed: under ``site_url`` when it is
    set, else from the site's root (``./`` for the root itself)."""
    path = "" if path == "./" else path
    return (site_url.rstrip("/") + "/" + path) if site_url else (path or "./")


def redirect_files(plan: SitePlan, page_url: Callable[[str], str]) -> Iterator[Generated]:
    """An HTML page at each old address of a renamed policy (``old/v1/index.html``) sending
    readers to the new one; ``page_url`` is a ``src_uri``'s address from the site's root."""
    for old, new in site.redirects(plan):
        stub = page_url(old)
        depth = stub.count("/")
        target = "../" * depth + page_url(new)
        yield Generated(stub + "index.html", redirect_html(target or "./"))


def markdown_link(src_uri: str) -> Link:
    """Links from the Markdown of the page ``src_uri`` to other pages, as editors write them
    (relative, to the ``.md`` file), which every engine resolves."""
    folder = os.path.dirname(src_uri)

    def link(target: str) -> str:
        return os.path.relpath(target, folder or ".").replace(os.sep, "/")

    return link


def page_files(
    builder: PageBuilder, *, index_source: str | None, html_link: Link, static_link: Link
) -> Iterator[Generated]:
    """Every page of the plan as Markdown, its header, banners, tables or redline in it as
    HTML (links in that HTML from ``html_link``: engines do not rewrite links in HTML).
    ``index_source`` is the site's own home page, to which the list of policies is added."""
    for spec in builder.plan:
        fragment = builder.decorate(spec, "", html_link, static_link).strip()
        block = f'<div class="pt-generated">\n{fragment}\n</div>\n' if fragment else ""
        if spec.kind is Kind.INDEX and index_source is not None:
            yield Generated(spec.src_uri, f"{index_source.rstrip()}\n\n{block}", in_nav=True)
            continue
        source = builder.source(spec, markdown_link(spec.src_uri))
        yield Generated(spec.src_uri, _after_title(source, block), in_nav=spec.in_nav)


def _after_title(markdown: str, block: str) -> str:
    """``block`` after the page's first ``# `` heading (else at the top of its body)."""
    lines = markdown.split("\n")
    start = 0
    if lines and lines[0] == "---":  # front matter
        start = lines.index("---", 1) + 1
    for n in range(start, len(lines)):
        if lines[n].startswith("# "):
            return "\n".join([*lines[: n + 1], "", block, *lines[n + 1 :]])
    return "\n".join([*lines[:start], "", block, *lines[start:]])


def docs_files(docs_dir: Path) -> Iterator[Path]:
    """The site's own files under ``docs_dir``, for the copy ``policy-tracker site`` makes."""
    for path in sorted(docs_dir.rglob("*")):
        if path.is_file():
            yield path

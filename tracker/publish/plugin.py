"""The MkDocs plugin (entry point ``policy-tracker``): wires MkDocs' events to the history
reader, the site plan and the page builders. Options: :mod:`tracker.publish.config`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from mkdocs.utils.templates import TemplateContext

from tracker.errors import TrackerError
from tracker.publish import site
from tracker.publish.a11y import label_search_dialog
from tracker.publish.config import PolicyTrackerConfig
from tracker.publish.generate import (
    CSS_URI,
    absolute,
    prepare,
    static_files,
)
from tracker.publish.pagecache import PageCache
from tracker.publish.pages import PageBuilder, Redlines, languages_in_head, redirect_html
from tracker.publish.sections import name_sections, section_titles
from tracker.publish.zone import resolve_zone


def package_version() -> str:
    """What the pages depend on besides their inputs: this package's publishing code,
    templates and stylesheet, the redline code, and the MkDocs and theme versions."""
    from tracker.publish.pagecache import code_version

    return code_version()


TIMEZONE_ENV = "POLICY_TRACKER_TIMEZONE"


@contextmanager
def translated() -> Iterator[None]:
    """The one place where the package's errors become MkDocs' (no traceback for users)."""
    try:
        yield
    except TrackerError as exc:
        raise PluginError(f"policy-tracker: {exc}") from None
    except ValueError as exc:
        raise PluginError(f"policy-tracker: {exc}") from None


class PolicyTrackerPlugin(BasePlugin[PolicyTrackerConfig]):  # type: ignore[no-untyped-call]
    """Publishes every policy version, redline, history page, feed and ``versions.json``."""

    def __init__(self) -> None:
        self.command = "build"
        self.redlines = Redlines()  # kept across `mkdocs serve` rebuilds
        self.builder: PageBuilder | None = None
        self.pages: PageCache | None = None
        self.zone = resolve_zone("UTC")
        self.sections: dict[str, str] = {}
        self.cached: dict[str, str] = {}  # the generated file of a cached page -> its page's
        self.files: Files | None = None

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        self.builder = None
        name = os.environ.get(TIMEZONE_ENV) or self.config.timezone
        where = TIMEZONE_ENV if os.environ.get(TIMEZONE_ENV) else "plugin option 'timezone'"
        with translated():  # before anything is written
            self.zone = resolve_zone(name, where=where)
        config.extra_css.append(CSS_URI)
        return config

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        options = self.config
        repository = self._repository(config)
        with translated():
            self.builder = prepare(
                repository, options, self.zone, command=self.command, redlines=self.redlines
            )
        plan = self.builder.plan
        cache = self.redlines.cache
        self.redlines.forget_except(self.builder.redline_keys())
        urls = {spec.src_uri: self._file(config, spec.src_uri).url for spec in plan}
        with translated():
            self.sections = section_titles(Path(repository, options.source), options.sections)
        signature = f"{package_version()} sections={sorted(self.sections.items())!r}"
        self.pages = PageCache(cache, config, files, plan, signature)
        self.cached = {}
        for spec in plan:
            if spec.src_uri in files.src_uris:
                if spec.kind is site.Kind.INDEX:
                    continue  # the site's own index page: the list of policies is appended
                raise PluginError(
                    f"policy-tracker: {spec.src_uri} in docs_dir clashes with the generated "
                    f"page of policy {spec.view.slug if spec.view else '?'}; rename or remove it"
                )
            page_url = urls[spec.src_uri]

            def url(src_uri: str, page_url: str = page_url) -> str:
                return get_relative_url(urls.get(src_uri, src_uri), page_url)

            content = self.builder.source(spec, url)
            if not spec.in_nav and not spec.searchable:
                # Archived versions, redlines, history: rendered once, then served from the
                # cache while their inputs stay the same (mkdocs serve rebuilds in seconds).
                with translated():
                    fragment = self.builder.decorate(spec, "", url, url)
                stored = self.pages.lookup(spec.src_uri, content, fragment)
                if stored is not None:
                    dest = self._file(config, spec.src_uri).dest_uri
                    files.append(File.generated(config, dest, content=stored))
                    self.cached[dest] = spec.src_uri
                    continue
            inclusion = InclusionLevel.INCLUDED if spec.in_nav else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, spec.src_uri, content=content, inclusion=inclusion))
        self._add_static(files, config, plan, urls)
        return files

    def on_nav(self, nav: Navigation, /, *, config: MkDocsConfig, files: Files) -> Navigation:
        if not self.config.enabled or not self.sections:
            return nav
        name_sections(nav.items, self.sections, depth=0)
        return nav

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled or self.builder is None:
            return html
        spec = self.builder.plan.pages.get(page.file.src_uri)
        if spec is None:
            return html
        by_uri = files.src_uris

        def url(src_uri: str) -> str:
            file = by_uri.get(src_uri)
            target = file.url if file is not None else self._file(config, src_uri).url
            return get_relative_url(target, page.url)

        with translated():
            return self.builder.decorate(spec, html, url, url)

    def on_env(self, env: Environment, /, *, config: MkDocsConfig, files: Files) -> None:
        self.files = files  # the files MkDocs builds, in their order, for the sitemap

    def on_template_context(
        self, context: TemplateContext, /, *, template_name: str, config: MkDocsConfig
    ) -> TemplateContext | None:
        """The sitemap lists the pages that came from the cache where a cold build would."""
        if template_name != "sitemap.xml" or not self.cached or self.files is None:
            return context
        listed = {id(file) for file in context["pages"]}
        pages: list[File] = []
        for file in self.files:
            src_uri = self.cached.get(file.src_uri) if file.generated_by else None
            if src_uri is not None:
                page = self._file(config, src_uri)  # what a cold build renders: a page
                Page(None, page, config)
                pages.append(page)
            elif id(file) in listed:
                pages.append(file)
        context["pages"] = pages
        return context

    @event_priority(-100)  # last: the page as written, after every other plugin's changes
    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled:
            return output
        output = label_search_dialog(output)
        spec = self.builder.plan.pages.get(page.file.src_uri) if self.builder else None
        if spec is not None and spec.view is not None:
            output = languages_in_head(output, spec, lambda uri: self._href(config, uri, page))
        if self.pages is not None:
            self.pages.store(page.file.src_uri, output)
        return output

    def on_post_template(
        self, output_content: str, /, *, template_name: str, config: MkDocsConfig
    ) -> str | None:
        return label_search_dialog(output_content) if self.config.enabled else output_content

    def on_serve(
        self, server: LiveReloadServer, /, *, config: MkDocsConfig, builder: Callable[..., Any]
    ) -> LiveReloadServer | None:
        if self.config.enabled:
            # Drafts are edits to the policy sources, which live outside docs_dir.
            sources = Path(self._repository(config), self.config.source)
            if sources.is_dir():
                server.watch(str(sources))
        return server

    # -- helpers ----------------------------------------------------------------------

    def _href(self, config: MkDocsConfig, src_uri: str, page: Page) -> str:
        """A generated page's address: absolute with a ``site_url``, else relative."""
        target = self._file(config, src_uri).url
        if config.site_url:
            return config.site_url.rstrip("/") + "/" + target
        return get_relative_url(target, page.url)

    def _repository(self, config: MkDocsConfig) -> str:
        root = Path(config.config_file_path or ".").resolve().parent
        return str((root / self.config.repository).resolve())

    @staticmethod
    def _file(config: MkDocsConfig, src_uri: str) -> File:
        """The file MkDocs would make of a page (for its URL when it comes from the cache)."""
        return File(src_uri, None, config.site_dir, config.use_directory_urls)

    def _add_static(
        self, files: Files, config: MkDocsConfig, plan: site.SitePlan, urls: dict[str, str]
    ) -> None:
        by_uri = files.src_uris

        def url(src_uri: str) -> str:
            file = by_uri.get(src_uri) if src_uri else None
            path = file.url if file is not None else urls.get(src_uri, src_uri)
            return absolute(config.site_url or None, path)

        for generated in static_files(
            plan,
            url,
            site_name=config.site_name,
            site_url=config.site_url or None,
            feed_on=self.config.feed,
        ):
            files.append(File.generated(config, generated.uri, content=generated.text))
        for old, new in site.redirects(plan):
            stub = File(old, None, config.site_dir, config.use_directory_urls)
            target = get_relative_url(urls[new], stub.url)
            files.append(File.generated(config, stub.dest_uri, content=redirect_html(target)))

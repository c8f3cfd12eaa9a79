"""The MkDocs plugin (entry point ``policy-tracker``): wires MkDocs' events to the history
reader, the site plan and the page builders. Options: :mod:`tracker.publish.config`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from tracker import history, redline
from tracker.errors import TrackerError
from tracker.publish import feed, site, versions
from tracker.publish.a11y import label_search_dialog
from tracker.publish.config import PolicyTrackerConfig, resolve_as_of, resolve_drafts
from tracker.publish.pages import PageBuilder, Redlines, redirect_html

CSS_URI = "assets/policy-tracker/policy-tracker.css"
VERSIONS_URI = "versions.json"
FEED_URI = "feed.xml"


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

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return config
        self.builder = None
        config.extra_css.append(CSS_URI)
        return config

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return files
        options = self.config
        with translated():
            as_of = resolve_as_of(options.as_of, os.environ, datetime.now(UTC).date())
            drafts = resolve_drafts(options.drafts, os.environ, self.command)
            catalog = history.read_catalog(
                self._repository(config),
                classify=redline.suggest,
                source=options.source,
                ref=options.ref,
                drafts=drafts,
            )
        plan = site.plan(catalog, as_of, drafts=drafts, index_page=options.index_page)
        self.builder = PageBuilder(
            plan, banner_days=options.banner_days, feed=options.feed, redlines=self.redlines
        )
        self.redlines.forget_except(self.builder.redline_keys())
        for spec in plan:
            if spec.src_uri in files.src_uris:
                if spec.kind is site.Kind.INDEX:
                    continue  # the site's own index page: the list of policies is appended
                raise PluginError(
                    f"policy-tracker: {spec.src_uri} in docs_dir clashes with the generated "
                    f"page of policy {spec.view.slug if spec.view else '?'}; rename or remove it"
                )
            inclusion = InclusionLevel.INCLUDED if spec.in_nav else InclusionLevel.NOT_IN_NAV
            content = self.builder.source(spec)
            files.append(File.generated(config, spec.src_uri, content=content, inclusion=inclusion))
        self._add_static(files, config, plan)
        return files

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
            return get_relative_url(by_uri[src_uri].url, page.url)

        with translated():
            return self.builder.decorate(spec, html, url, url)

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        return label_search_dialog(output) if self.config.enabled else output

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

    def _repository(self, config: MkDocsConfig) -> str:
        root = Path(config.config_file_path or ".").resolve().parent
        return str((root / self.config.repository).resolve())

    def _add_static(self, files: Files, config: MkDocsConfig, plan: site.SitePlan) -> None:
        package = resources.files("tracker.publish")
        css = package.joinpath("assets/policy-tracker.css").read_text(encoding="utf-8")
        files.append(File.generated(config, CSS_URI, content=css))
        files.append(File.generated(config, versions.SCHEMA_NAME, content=versions.schema_text()))
        by_uri = files.src_uris
        site_url = config.site_url or None

        def url(src_uri: str) -> str:
            file = by_uri.get(src_uri) if src_uri else None
            path = file.url if file is not None else src_uri
            path = "" if path == "./" else path
            return (site_url.rstrip("/") + "/" + path) if site_url else (path or "./")

        document = versions.build(plan, url, site_url=site_url)
        files.append(File.generated(config, VERSIONS_URI, content=versions.dumps(document)))
        if self.config.feed:
            text = feed.build(plan, url, site_name=config.site_name, site_url=site_url)
            files.append(File.generated(config, FEED_URI, content=text))
        for old, new in site.redirects(plan):
            stub = File(old, None, config.site_dir, config.use_directory_urls)
            target = get_relative_url(by_uri[new].url, stub.url)
            files.append(File.generated(config, stub.dest_uri, content=redirect_html(target)))

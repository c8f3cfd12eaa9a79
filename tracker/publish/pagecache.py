"""Whole pages from the content-addressed cache (:mod:`tracker.cache`).

An archived version, a redline or a history page is a pure function of its Markdown source,
the HTML the plugin puts around it, and the site around it (configuration, navigation,
theme, versions of the code). Once MkDocs has written such a page, the page is stored under
the SHA-256 of all of that; a later build (``mkdocs serve`` after a save, or a CI build with
the cache restored) hands MkDocs the stored HTML as a file to copy instead of a page to
render. Pages in the navigation or the search index are always rendered.
"""

from __future__ import annotations

import functools
import hashlib
import os
from importlib import metadata
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files

from tracker.cache import Cache, key
from tracker.publish.site import SitePlan


@functools.cache
def code_version() -> str:
    """The SHA-256 of the code, templates and stylesheet pages are made with, and of the
    installed MkDocs and theme versions."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for folder in (package, package.parent / "redline"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".html", ".css", ".json"}:
                digest.update(str(path.relative_to(package.parent)).encode() + b"\0")
                digest.update(path.read_bytes())
    for name in ("mkdocs", "mkdocs-material"):
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:  # pragma: no cover - a theme without metadata
            digest.update(name.encode())
    return digest.hexdigest()


class PageCache:
    """Lookups for one build: ``lookup`` before MkDocs renders, ``store`` after."""

    def __init__(self, cache: Cache, config: MkDocsConfig, files: Files, plan: SitePlan,
                 version: str):  # fmt: skip
        self.cache = cache
        self.site = _site_signature(config, files, plan, version)
        self.pending: dict[str, str] = {}

    def lookup(self, src_uri: str, source: str, fragment: str) -> str | None:
        """The stored HTML of a page, or None (and the page is stored once MkDocs wrote it)."""
        if self.cache.folder is None:
            return None
        name = key("page", self.site, src_uri, source, fragment)
        found = self.cache.get(name)
        if found is not None:
            try:
                return found.decode("utf-8")
            except UnicodeDecodeError:  # pragma: no cover - the hash was checked
                pass
        self.pending[src_uri] = name
        return None

    def store(self, src_uri: str, output: str) -> None:
        name = self.pending.pop(src_uri, None)
        if name is not None:
            self.cache.put(name, output.encode("utf-8", errors="xmlcharrefreplace"))


def _site_signature(config: MkDocsConfig, files: Files, plan: SitePlan, version: str) -> str:
    """Everything besides its own inputs that a page's HTML depends on."""
    parts: list[str | bytes] = [version]
    if config.config_file_path and os.path.isfile(config.config_file_path):
        parts.append(Path(config.config_file_path).read_bytes())
    for name in ("site_name", "site_url", "use_directory_urls", "extra_css",
                 "extra_javascript", "extra", "nav", "markdown_extensions", "mdx_configs",
                 "copyright", "repo_url", "edit_uri"):  # fmt: skip
        parts.append(f"{name}={config.get(name)!r}")
    parts.append(f"theme={config.theme.name!r} {sorted(config.theme.items())!r}")
    for folder in config.theme.dirs[:1] if config.theme.custom_dir else ():
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                parts.append(f"{path}:{path.stat().st_size}:{path.stat().st_mtime_ns}")
    # The navigation is on every page: the documentation pages and their titles.
    for file in files.documentation_pages():
        parts.append(file.src_uri)
        if file.abs_src_path and os.path.isfile(file.abs_src_path):
            parts.append(Path(file.abs_src_path).read_bytes())
    for spec in plan:
        if spec.in_nav:
            parts.append(f"{spec.src_uri}={spec.title}")
    return key(*parts)

"""``policy-tracker site``: the versioned site as ordinary files, for any engine.

Writes ``OUT/docs/`` (the site's own pages from ``docs_dir``, and every generated page and
file) and ``OUT/mkdocs.yml``, which inherits the project's ``mkdocs.yml`` and lists its
plugins but this one, so that ``mkdocs build -f OUT/mkdocs.yml`` or ``zensical build -f
OUT/mkdocs.yml`` builds the same site into ``OUT/site/`` without the plugin. Links in the
pages' HTML are from the site's root (the path of ``site_url``, else ``/``): engines resolve
links in HTML differently, so only those mean the same to all of them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from mkdocs.config import load_config
from mkdocs.exceptions import ConfigurationError
from mkdocs.structure.files import File
from mkdocs.utils.yaml import yaml_load

from tracker.errors import TrackerError
from tracker.publish.config import PolicyTrackerConfig
from tracker.publish.generate import (
    CSS_URI,
    Generated,
    absolute,
    docs_files,
    page_files,
    prepare,
    redirect_files,
    static_files,
)
from tracker.publish.pages import Redlines
from tracker.publish.zone import resolve_zone

PLUGIN = "policy-tracker"
MARKER = ".policy-tracker-site"
TIMEZONE_ENV = "POLICY_TRACKER_TIMEZONE"


@dataclass(frozen=True)
class Written:
    """What ``policy-tracker site`` wrote: the folder, its config and how many files."""

    out: Path
    config: Path
    pages: int
    files: int


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except (ConfigurationError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()
        raise TrackerError(first[0] if first else repr(exc)) from None


def page_url(src_uri: str) -> str:
    """A page's address from the site's root, as MkDocs makes it (``privacy/v2/``)."""
    url = File(src_uri, None, "", True).url
    return "" if url == "./" else url


def write_site(config_file: Path, out: Path) -> Written:
    """Write the site of ``config_file`` as files under ``out`` (see the module)."""
    config_file = config_file.resolve()
    if not config_file.is_file():
        raise TrackerError(f"{config_file} does not exist; run from the folder of mkdocs.yml")
    with _one_line():
        config = load_config(config_file=str(config_file))
    plugin = config.plugins.get(PLUGIN)
    if plugin is None:
        raise TrackerError(f"{config_file.name} does not list the {PLUGIN} plugin under plugins:")
    options: PolicyTrackerConfig = plugin.config
    with _one_line():
        zone = resolve_zone(os.environ.get(TIMEZONE_ENV) or options.timezone)
    _claim(out)
    repository = str((config_file.parent / options.repository).resolve())
    builder = prepare(repository, options, zone, command="build", redlines=Redlines())
    base = urlparse(config.site_url or "/").path.rstrip("/") + "/"

    def html_link(src_uri: str) -> str:
        return base + page_url(src_uri)

    def static_link(uri: str) -> str:
        return base + uri

    docs_dir = Path(config.docs_dir)
    index = docs_dir / options.index_page
    generated: list[Generated] = [
        *page_files(
            builder,
            index_source=index.read_text(encoding="utf-8") if index.is_file() else None,
            html_link=html_link,
            static_link=static_link,
        ),
        *static_files(
            builder.plan,
            lambda uri: absolute(config.site_url or None, page_url(uri) if uri else ""),
            site_name=config.site_name,
            site_url=config.site_url or None,
            feed_on=options.feed,
        ),
        *redirect_files(builder.plan, page_url),
    ]
    target = out / "docs"
    own = [path.relative_to(docs_dir).as_posix() for path in docs_files(docs_dir)]
    made = {g.uri for g in generated}
    clash = [uri for uri in own if uri in made and uri != options.index_page]
    if clash:
        raise TrackerError(
            f"{docs_dir.name}/{clash[0]} clashes with a generated page of the site; rename it"
        )
    for uri in own:
        if uri not in made:
            (target / uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(docs_dir / uri, target / uri)
    for g in generated:
        (target / g.uri).parent.mkdir(parents=True, exist_ok=True)
        (target / g.uri).write_text(g.text, encoding="utf-8")
    hidden = sorted(g.uri for g in generated if g.uri.endswith(".md") and not g.in_nav)
    written = out / "mkdocs.yml"
    written.write_text(_config(config_file, out, hidden), encoding="utf-8")
    pages = sum(1 for g in generated if g.uri.endswith(".md"))
    return Written(out, written, pages, len(generated) + len(own))


def _claim(out: Path) -> None:
    """Make ``out`` ours: new, empty, or written by this command before (then cleared)."""
    if out.exists() and not out.is_dir():
        raise TrackerError(f"{out} is a file; name a folder for the site's files")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise TrackerError(
            f"{out} is not empty and was not written by policy-tracker site; nothing was "
            "written (name a new folder)"
        )
    shutil.rmtree(out / "docs", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by policy-tracker site; rewritten on each run\n")


def _config(config_file: Path, out: Path, hidden: list[str]) -> str:
    """``OUT/mkdocs.yml``: the project's, with the generated pages and without the plugin."""
    with config_file.open("rb") as f, _one_line():
        raw: dict[str, Any] = yaml_load(f) or {}
    listed = raw.get("plugins") or []
    entries = (
        [name if not value else {name: value} for name, value in listed.items()]
        if isinstance(listed, dict)
        else list(listed)
    )
    plugins = [e for e in entries if (e if isinstance(e, str) else next(iter(e), "")) != PLUGIN]
    patterns = str(raw.get("not_in_nav") or "").splitlines() + [f"/{uri}" for uri in hidden]
    settings = {
        "docs_dir": "docs",
        "site_dir": "site",
        "plugins": plugins,
        "extra_css": [*(raw.get("extra_css") or []), CSS_URI],
    }
    try:
        body = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)
    except yaml.representer.RepresenterError:  # options with YAML tags: their names only
        settings["plugins"] = [p if isinstance(p, str) else next(iter(p)) for p in plugins]
        body = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True)
    here = out.resolve()
    parent = (
        os.path.relpath(config_file, here).replace(os.sep, "/")
        if here.is_relative_to(config_file.parent)
        else str(config_file)
    )
    # the pages kept out of the navigation, one gitignore-style pattern a line
    body += "not_in_nav: |\n" + "".join(f"  {p}\n" for p in patterns if p.strip())
    return (
        "# Written by `policy-tracker site`: the policy site as ordinary pages, for any engine\n"
        "# that reads mkdocs.yml (mkdocs build -f / zensical build -f this file). Rewritten\n"
        "# on each run: change the project's mkdocs.yml instead.\n"
        f"INHERIT: {parent}\n{body}"
    )

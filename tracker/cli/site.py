"""The site as files: ``site``."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import settings


@click.command("site")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("build"),
    show_default=True,
    help="The folder to write: OUT/docs/ (every page) and OUT/mkdocs.yml.",
)
@click.option(
    "--config-file",
    "-f",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The site's mkdocs.yml (default: the one in the repository).",
)
def site_command(out: Path, config_file: Path | None) -> None:
    """Write the versioned site as ordinary pages, for any engine that reads mkdocs.yml.

    Every page the plugin makes (current pages, versions, redlines, history, index, feed,
    versions.json, redirects) is written under OUT/docs/ beside the site's own pages, and
    OUT/mkdocs.yml inherits mkdocs.yml without the plugin: build it with
    `mkdocs build -f OUT/mkdocs.yml` or `zensical build -f OUT/mkdocs.yml` (site in OUT/site/).

    Example: policy-tracker site --out build && zensical build -f build/mkdocs.yml
    """
    # lazy: MkDocs, the site's pages and the diff engine take ~0.6 s to load; only
    # this command needs them
    from tracker.publish.sitefiles import write_site

    config = config_file or settings().repository / "mkdocs.yml"
    written = write_site(config, out)
    click.echo(
        f"wrote {written.pages} pages ({written.files} files) under {out}/docs and "
        f"{written.config.name}; build with: zensical build -f {out}/mkdocs.yml "
        f"(or mkdocs build -f {out}/mkdocs.yml)"
    )


COMMANDS = [site_command]

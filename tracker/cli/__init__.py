"""The ``policy-tracker`` command: thin click commands over the library.

One module per group of commands; ``tracker.cli.common`` holds what they share (the common
options, the settings and store they work on, and the one place a ``TrackerError`` becomes
a one-line error). The root command below only reads the common options and lists the
commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli import (
    audit,
    backup,
    console,
    db,
    imports,
    keys,
    serve,
    site,
    start,
    versions,
    webhooks,
)
from tracker.cli.common import Context, TrackerGroup, repository_options
from tracker.settings import Settings


@click.group(cls=TrackerGroup)
@repository_options
@click.version_option(package_name="policy-tracker")
@click.pass_context
def cli(
    ctx: click.Context, repository: Path | None, source: str | None, ref: str | None, debug: bool
) -> None:
    """Publish versioned legal policies from git and track who accepted which version.

    Example: policy-tracker log privacy
    """
    settings = Settings.from_env(repository=repository, source=source, ref=ref)
    ctx.obj = Context(settings, debug)


for _module in (start, versions, serve, db, keys, webhooks, audit, backup, site, console, imports):
    for _command in _module.COMMANDS:
        cli.add_command(_command)

__all__ = ["TrackerGroup", "cli"]

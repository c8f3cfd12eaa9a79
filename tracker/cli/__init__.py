"""The ``policy-tracker`` command: thin click commands over the library.

One module per group of commands; ``tracker.cli.common`` holds what they share (the common
options, the settings and store they work on, and the one place a ``TrackerError`` becomes
a one-line error). The root command below only reads the common options and lists the
commands.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from tracker.cli.common import Context, TrackerGroup, repository_options
from tracker.settings import Settings

_MODULES = {
    "start": ["init"],
    "versions": ["log", "show", "diff", "check"],
    "serve": ["serve", "sync", "demo"],
    "db": ["db"],
    "keys": ["keys"],
    "webhooks": ["dispatch", "webhooks"],
    "audit": ["checkpoint", "verify", "export", "evidence", "verify-bundle", "purge", "erase"],
    "backup": ["backup", "restore"],
    "site": ["site"],
    "console": ["console-link"],
    "imports": ["import"],
}
"""Each command's module (``tracker.cli.<module>``, whose ``COMMANDS`` list holds it)."""


class LazyGroup(TrackerGroup):
    """Imports a command's module only when that command runs (or ``--help`` lists it):
    the store, the migrations and the web service cost ~0.8 s to import, and ``log`` needs
    none of them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = {name: module for module, names in _MODULES.items() for name in names}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module = importlib.import_module(f"tracker.cli.{self.lazy[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup)
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


__all__ = ["LazyGroup", "TrackerGroup", "cli"]

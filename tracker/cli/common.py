"""What every command shares: the common options, the settings and store a command works
on, and the one place that turns a ``TrackerError`` into a CLI error.

A ``TrackerError`` is one line on stderr and exit 1; anything unexpected is one line and
exit 2; ``--debug`` shows the traceback instead. Commands read the root command's settings
(``--repo``, ``--source``, ``--ref`` over the environment) when there is a root, else the
environment: a command can be invoked on its own, as the tests do.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console

from tracker.cache import Cache
from tracker.errors import TrackerError
from tracker.settings import Settings
from tracker.timeline import utcnow

if TYPE_CHECKING:
    from tracker.policy import Catalog
    from tracker.store import Store

F = TypeVar("F", bound=Callable[..., Any])


def console() -> Console:
    """A console for stdout; off a terminal, wide enough that tables do not fold."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


@dataclass
class Context:
    """What the root command hands its commands: the settings and whether to debug."""

    settings: Settings
    debug: bool

    def catalog(self, *, drafts: bool = True) -> Catalog:
        # Loaded here, not at the top: GitPython and the diff engine add ~0.3 s to every
        # command's start, and only the commands that read the repository need them.
        from tracker.history import read_catalog
        from tracker.redline.cached import cached_classifier

        return read_catalog(
            self.settings.repository,
            source=self.settings.source,
            ref=self.settings.ref,
            drafts=drafts,
            classify=cached_classifier(Cache.for_repository(self.settings.repository)),
            zone=self.settings.zone,
        )

    def today(self) -> date:
        """Today in the publisher's time zone (setting ``timezone``)."""
        return utcnow().astimezone(self.settings.zone).date()


pass_context = click.make_pass_decorator(Context)


class TrackerGroup(click.Group):
    """Translates errors once: a TrackerError is one line and exit 1; anything else exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            if _debug(ctx):
                raise
            _fail(f"error: {exc}", 1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:
            if _debug(ctx):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 2)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.params.get("debug")) or "--debug" in sys.argv


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, in the order given."""

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


repository_options = _options(
    click.option(
        "--repo",
        "repository",
        type=click.Path(file_okay=False, path_type=Path),
        help="The policy repository (default: the current directory).",
    ),
    click.option(
        "--source", help="Folder of policy sources inside the repository (default: policy)."
    ),
    click.option("--ref", help="The publishing ref whose first-parent history makes versions."),
    click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors."),
)
"""The root command's options: where the policies are, and ``--debug``."""

database_option = click.option(
    "--database-url",
    help="sqlite:///file.sqlite3 or postgresql://user@host/db (default: from settings).",
)
"""``--database-url``: wins over the settings, which read ``POLICY_TRACKER_DATABASE_URL``,
else ``DATABASE_URL`` (``Settings.from_env``)."""


def output_option(help: str) -> Callable[[F], F]:
    """``--output``/``-o FILE``: where a command writes what it makes."""
    return click.option(
        "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


def settings(database_url: str | None = None, **overrides: Any) -> Settings:
    """The root command's settings (else the environment's), with ``--database-url`` and
    the command's own options (those given, not None) over them."""
    obj: Any = click.get_current_context().find_root().obj
    found = getattr(obj, "settings", None)
    if not isinstance(found, Settings):
        found = Settings.from_env()
    if database_url:
        overrides["database_url"] = database_url
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(found, **given) if given else found


@contextmanager
def open_store(
    settings: Settings, *, upgrade: bool = False, require_schema: bool = False
) -> Iterator[Store]:
    """The store of ``settings``, disposed of afterwards; with ``upgrade`` the database is
    created or migrated first, with ``require_schema`` an empty one is a one-line error."""
    # Loaded here: SQLAlchemy and Alembic cost ~0.5 s, and reading policies needs neither.
    from tracker import migrations
    from tracker.store import Store

    store = Store.open(settings)
    try:
        if upgrade:
            migrations.upgrade(store.engine)
        elif require_schema and migrations.current(store.engine) is None:
            raise TrackerError("the database is empty: run `policy-tracker db upgrade` first")
        yield store
    finally:
        store.dispose()

"""``backup`` and ``restore``: a consistent copy of a SQLite database while the service
writes, and a restore into an empty database (tracker.store.backup)."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli import common
from tracker.cli.common import database_option
from tracker.store import backup as backups


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@database_option
def backup(file: Path, database_url: str | None) -> None:
    """Copy the SQLite database to FILE, consistent while the service keeps writing.

    Uses SQLite's online backup API; never overwrites FILE. For PostgreSQL use pg_dump or
    a base backup (docs/audit.md, Backups). Check a copy with `restore` and `verify
    --checkpoint`.

    Example: policy-tracker backup backups/tracker-2026-11-25.sqlite3
    """
    settings = common.settings(database_url)
    click.echo(backups.backup(settings.database_url, file).summary("backed up to"))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
def restore(file: Path, database_url: str | None) -> None:
    """Restore the backup FILE into an empty SQLite database (the configured one).

    Refuses a database that already holds tables. Then run `policy-tracker verify
    --checkpoint CHECKPOINT` on the restored database.

    Example: policy-tracker restore backups/tracker-2026-11-25.sqlite3 --database-url sqlite:///restored.sqlite3
    """
    settings = common.settings(database_url)
    click.echo(backups.restore(file, settings.database_url).summary(f"restored {file} into"))


COMMANDS = [backup, restore]

"""``db upgrade|downgrade|current``: the database schema (the package's Alembic migrations)."""

from __future__ import annotations

import click

from tracker import migrations
from tracker.cli.common import database_option, open_store, settings


@click.group()
def db() -> None:
    """Manage the tracker's database schema (Alembic migrations shipped with the package).

    Example: policy-tracker db upgrade
    """


@db.command()
@click.argument("revision", default="head")
@database_option
def upgrade(revision: str, database_url: str | None) -> None:
    """Create or migrate the database to REVISION (default: head).

    Example: policy-tracker db upgrade --database-url sqlite:///tracker.sqlite3
    """
    with open_store(settings(database_url)) as store:
        migrations.upgrade(store.engine, revision)
        click.echo(f"database at revision {migrations.current(store.engine)}")


@db.command()
@click.argument("revision", default="-1")
@database_option
def downgrade(revision: str, database_url: str | None) -> None:
    """Migrate the database down to REVISION (default: one step; 'base' drops everything).

    Example: policy-tracker db downgrade base
    """
    with open_store(settings(database_url)) as store:
        migrations.downgrade(store.engine, revision)
        click.echo(f"database at revision {migrations.current(store.engine) or 'base'}")


@db.command()
@database_option
def current(database_url: str | None) -> None:
    """Print the database's revision and the package's head revision.

    Example: policy-tracker db current
    """
    with open_store(settings(database_url)) as store:
        click.echo(f"database: {migrations.current(store.engine) or 'empty'}")
        click.echo(f"head: {migrations.head()}")


COMMANDS = [db]

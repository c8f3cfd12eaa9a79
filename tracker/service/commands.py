"""Click commands of the service: ``serve``, ``sync``, ``db`` and ``keys``.

``tracker.cli`` registers them with ``cli.add_command(...)``; they read the root
command's settings (``ctx.obj.settings``) when there is one, else the environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from tracker import migrations
from tracker.errors import InvalidInput
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import KeyInfo, create_key, list_keys, parse_scopes, revoke_key
from tracker.store.links import (
    AppSettings,
    app_settings,
    check_color,
    check_return_urls,
    replace_key_app,
    set_key_app,
)

database_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="sqlite:///file.sqlite3 or postgresql://user@host/db (default: from settings).",
)


def _settings(database_url: str | None = None) -> Settings:
    ctx = click.get_current_context()
    obj: Any = ctx.find_root().obj
    settings = getattr(obj, "settings", None)
    if not isinstance(settings, Settings):
        settings = Settings.from_env()
    return replace(settings, database_url=database_url) if database_url else settings


@contextmanager
def _store(database_url: str | None) -> Iterator[Store]:
    store = Store.open(_settings(database_url))
    try:
        yield store
    finally:
        store.dispose()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@database_option
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object a line.",
)
@click.option("--no-sync", is_flag=True, help="Do not sync versions from the repository first.")
def serve(
    host: str, port: int, workers: int, database_url: str | None, log_format: str, no_sync: bool
) -> None:
    """Run the tracker service (API at /v1, the built site at /).

    Creates and migrates the database on first start and syncs versions from the
    repository it stands in, so one command gives a working demo.

    Example: policy-tracker serve --port 8000 --log-format json
    """
    from tracker.service.serve import run
    from tracker.sync import prepare

    settings = _settings(database_url)
    store, result = prepare(settings, sync_repository=not no_sync)
    store.dispose()
    if result is not None:
        message = f"synced: {result.summary()}"
        click.echo(
            json.dumps({"level": "info", "message": message}) if log_format == "json" else message,
            err=True,
        )
    run(settings, host=host, port=port, workers=workers, log_format=log_format)


@click.command()
@database_option
@click.option(
    "--to",
    "url",
    metavar="URL",
    help="Post the versions to the tracker at URL (POST /v1/admin/versions) instead of "
    "writing to a database.",
)
@click.option(
    "--key",
    envvar="POLICY_TRACKER_ADMIN_KEY",
    help="An API key with the admin scope, for --to (default: $POLICY_TRACKER_ADMIN_KEY).",
)
def sync(database_url: str | None, url: str | None, key: str | None) -> None:
    """Publish the repository's versions into the tracker's database (idempotent).

    A version already stored with a different SHA-256 is refused: published versions
    never change. With --to URL the versions go to a running tracker over HTTP instead,
    for a CI job without access to its database (policy-tracker sync --database-url URL
    writes to a database directly).

    Example: policy-tracker sync --to https://tracker.example.com --key "$ADMIN_KEY"
    """
    from tracker.sync import prepare, remote_summary, sync_to

    if url is not None:
        if not key:
            raise InvalidInput(
                "sync --to needs an admin API key: --key or POLICY_TRACKER_ADMIN_KEY"
            )
        answer = sync_to(_settings(), url, key, as_of=datetime.now(UTC).date())
        click.echo(f"synced to {url}: {remote_summary(answer)}")
        return
    store, result = prepare(_settings(database_url))
    store.dispose()
    assert result is not None
    click.echo(f"synced: {result.summary()}")


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
    with _store(database_url) as store:
        migrations.upgrade(store.engine, revision)
        click.echo(f"database at revision {migrations.current(store.engine)}")


@db.command()
@click.argument("revision", default="-1")
@database_option
def downgrade(revision: str, database_url: str | None) -> None:
    """Migrate the database down to REVISION (default: one step; 'base' drops everything).

    Example: policy-tracker db downgrade base
    """
    with _store(database_url) as store:
        migrations.downgrade(store.engine, revision)
        click.echo(f"database at revision {migrations.current(store.engine) or 'base'}")


@db.command()
@database_option
def current(database_url: str | None) -> None:
    """Print the database's revision and the package's head revision.

    Example: policy-tracker db current
    """
    with _store(database_url) as store:
        click.echo(f"database: {migrations.current(store.engine) or 'empty'}")
        click.echo(f"head: {migrations.head()}")


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (stored only as hashes); set their app settings.

    Example: policy-tracker keys create --name web --scopes read,write
    """


def _app_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that set a key's app settings, shared by ``keys create`` and ``keys app``."""
    for option in reversed(
        [
            click.option(
                "--return-url",
                "return_urls",
                multiple=True,
                metavar="URL",
                help="Where the hosted acceptance page may send users back to (repeatable): "
                "this URL and the paths below it; a loopback URL without a port allows any port.",
            ),
            click.option("--app-name", help="The app's name on the hosted acceptance page."),
            click.option(
                "--color", help="The app's colour on the hosted acceptance page, as #rrggbb."
            ),
        ]
    ):
        command = option(command)
    return command


def _ident(key: str) -> str:
    """A key's id or prefix, from either of them or the whole key."""
    return key.removeprefix("ptk_").split("_", 1)[0]


def _describe(app: AppSettings | None) -> str:
    if app is None:
        return "no app settings"
    parts = [f"app {app.name}" if app.name else "no app name"]
    if app.color:
        parts.append(app.color)
    urls = " ".join(app.return_urls)
    parts.append(f"returns to {urls}" if urls else "no return URLs")
    return ", ".join(parts)


@keys.command("create")
@click.option("--name", required=True, help="Who uses the key (an app).")
@click.option(
    "--scopes", default="read", show_default=True, help="Comma-separated: read, write, admin."
)
@_app_options
@database_option
def keys_create(
    name: str,
    scopes: str,
    return_urls: tuple[str, ...],
    app_name: str | None,
    color: str | None,
    database_url: str | None,
) -> None:
    """Create a key and print it once; only its hash is stored.

    An app that sends users to the hosted acceptance page names where they may come back
    to (--return-url, repeatable) and how the page shows it (--app-name, --color); change
    them later with policy-tracker keys app.

    Example: policy-tracker keys create --name checkout --scopes read,write
    """
    wanted = parse_scopes(scopes)
    check_return_urls(return_urls)
    if color is not None:
        check_color(color)

    def create(session: Session) -> tuple[str, KeyInfo]:
        key, info = create_key(session, name, wanted)
        if return_urls or app_name or color:
            set_key_app(
                session, info.id, app_name=app_name, brand_color=color, return_urls=return_urls
            )
        return key, info

    with _store(database_url) as store:
        migrations.upgrade(store.engine)
        key, info = store.write(create)
    click.echo(key)
    click.echo(
        f"created key {info.id} ({info.name}, scopes {','.join(sorted(info.scopes))}); "
        "it is shown only this once",
        err=True,
    )


@keys.command("app")
@click.argument("key")
@_app_options
@database_option
def keys_app(
    key: str,
    return_urls: tuple[str, ...],
    app_name: str | None,
    color: str | None,
    database_url: str | None,
) -> None:
    """Replace the hosted-page settings of KEY (its id or prefix).

    The options given replace all of the key's settings: one left out is cleared, so
    repeat --return-url for every URL to keep. Links already made keep their return URL.

    Example: policy-tracker keys app 3 --return-url https://shop.example.com/ --app-name Shop
    """
    ident = _ident(key)
    with _store(database_url) as store:
        migrations.upgrade(store.engine)
        info, app = store.write(
            lambda s: replace_key_app(
                s, ident, app_name=app_name, brand_color=color, return_urls=return_urls
            )
        )
    click.echo(f"key {info.id} ({info.name}): {_describe(app)}")


@keys.command("list")
@database_option
def keys_list(database_url: str | None) -> None:
    """List keys: id, prefix, name, scopes, created, revoked, then the app settings.

    Example: policy-tracker keys list
    """
    with _store(database_url) as store:
        migrations.upgrade(store.engine)
        with store.read() as session:
            found = list_keys(session)
            apps = app_settings(session)
    if not found:
        click.echo("no API keys; create one with: policy-tracker keys create --name NAME")
    for k in found:
        revoked = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(
            f"{k.id}\tptk_{k.prefix}_…\t{k.name}\t{','.join(sorted(k.scopes))}\t"
            f"{k.created_at:%Y-%m-%d}\t{revoked}\t{_describe(apps.get(k.id))}"
        )


@keys.command("revoke")
@click.argument("key")
@database_option
def keys_revoke(key: str, database_url: str | None) -> None:
    """Revoke KEY (its id or prefix); requests with it get 401 from then on.

    Example: policy-tracker keys revoke 3
    """
    ident = _ident(key)
    with _store(database_url) as store:
        migrations.upgrade(store.engine)
        info = store.write(lambda s: revoke_key(s, ident))
    click.echo(f"revoked key {info.id} ({info.name})")


COMMANDS = [serve, sync, db, keys]

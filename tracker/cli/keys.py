"""``keys create|app|list|revoke``: API keys (stored only as hashes) and their app settings."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy.orm import Session

from tracker.cli.common import database_option, open_store, settings
from tracker.store.keys import KeyInfo, create_key, list_keys, parse_scopes, revoke_key
from tracker.store.links import (
    AppSettings,
    app_settings,
    check_color,
    check_return_urls,
    replace_key_app,
    set_key_app,
)


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

    with open_store(settings(database_url), upgrade=True) as store:
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
    with open_store(settings(database_url), upgrade=True) as store:
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
    with open_store(settings(database_url), upgrade=True) as store, store.read() as session:
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
    with open_store(settings(database_url), upgrade=True) as store:
        info = store.write(lambda s: revoke_key(s, ident))
    click.echo(f"revoked key {info.id} ({info.name})")


COMMANDS = [keys]

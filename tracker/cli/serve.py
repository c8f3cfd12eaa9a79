"""Running the tracker: ``serve``, ``sync`` (git → the tracker) and the ``demo``."""

from __future__ import annotations

import json

import click

from tracker.cli.common import console, database_option, settings
from tracker.demo import build_site, create_demo_key
from tracker.errors import InvalidInput
from tracker.timeline import utcnow


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
    # lazy: the web service (Starlette, uvicorn) and git reading add ~0.5 s to every
    # command's start; only serve and demo need them
    from tracker.service.serve import run
    from tracker.sync import prepare

    chosen = settings(database_url)
    store, result = prepare(chosen, sync_repository=not no_sync)
    store.dispose()
    if result is not None:
        message = f"synced: {result.summary()}"
        click.echo(
            json.dumps({"level": "info", "message": message}) if log_format == "json" else message,
            err=True,
        )
    run(chosen, host=host, port=port, workers=workers, log_format=log_format)


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
    # lazy: git reading and httpx (~0.3 s to load); only sync needs them
    from tracker.sync import prepare, remote_summary, sync_to

    if url is not None:
        if not key:
            raise InvalidInput(
                "sync --to needs an admin API key: --key or POLICY_TRACKER_ADMIN_KEY"
            )
        chosen = settings()
        answer = sync_to(chosen, url, key, as_of=utcnow().astimezone(chosen.zone).date())
        click.echo(f"synced to {url}: {remote_summary(answer)}")
        return
    store, result = prepare(settings(database_url))
    store.dispose()
    assert result is not None
    click.echo(f"synced: {result.summary()}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Build the site, then serve it with the tracker on the SQLite default.

    Prints an API key with every scope and a first request to try.

    Example: policy-tracker demo --port 8000
    """
    from tracker.service.serve import served  # lazy: as in serve above

    chosen = served(settings(), host, port)
    console().print("building the site with mkdocs …")
    site = build_site(chosen)
    console().print(f"site written to {site}")
    key = create_demo_key(chosen)
    base = f"http://{host}:{port}"
    console().print(
        f"demo API key (shown once): {key}\n"
        f"try: curl -H 'Authorization: Bearer {key}' {base}/v1/users/alice/status\n"
        f"site: {base}/"
    )
    ctx.invoke(
        serve,
        host=host,
        port=port,
        workers=1,
        database_url=None,
        log_format="text",
        no_sync=False,
    )


COMMANDS = [serve, sync, demo]

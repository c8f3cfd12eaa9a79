"""Webhooks: ``dispatch`` (send due deliveries) and ``webhooks add|list|remove|rotate``."""

from __future__ import annotations

import signal
import threading

import click

from tracker.cli.common import database_option, open_store, settings
from tracker.notices.urls import AllowList
from tracker.notices.webhooks import (
    add_endpoint,
    list_endpoints,
    parse_events,
    remove_endpoint,
    rotate_secret,
    rotation_overlap,
)
from tracker.store.notices import EVENT_TYPES
from tracker.timeline import utcnow


@click.command()
@database_option
@click.option("--once", is_flag=True, help="Exit when no delivery is due instead of waiting.")
@click.option("--batch", type=click.IntRange(1, 1000), help="Deliveries claimed at once.")
@click.option("--lease", type=float, help="Seconds a claim is held (webhook_lease_seconds).")
@click.option("--poll", type=float, help="Seconds between looks when idle.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 100),
    help="Requests in flight at once (dispatch_concurrency).",
)
def dispatch(
    database_url: str | None,
    once: bool,
    batch: int | None,
    lease: float | None,
    poll: float | None,
    concurrency: int | None,
) -> None:
    """Send due webhook deliveries, signed, until stopped (SIGTERM or Ctrl-C).

    Run as many as you like on as many machines as share the database: each claims
    deliveries with a lease, so none is sent by two at once and none is lost when one
    is killed.

    Example: policy-tracker dispatch --database-url postgresql://tracker@db/tracker
    """
    # Loaded here, not at the top: the dispatcher's HTTP client and DNS resolution add
    # ~0.3 s to every command's start, and only this long-running command needs them.
    from tracker.notices.dispatch import Dispatcher

    chosen = settings(
        database_url,
        dispatch_batch_size=batch,
        webhook_lease_seconds=lease,
        dispatch_poll_seconds=poll,
        dispatch_concurrency=concurrency,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_store(chosen) as store:
        dispatcher = Dispatcher(store, chosen)
        try:
            total = dispatcher.run(stop, once=once)
        except KeyboardInterrupt:
            total = -1
        finally:
            dispatcher.close()
    if total >= 0:
        click.echo(f"dispatched {total} deliveries", err=True)


@click.group()
def webhooks() -> None:
    """Manage the URLs that receive signed webhooks.

    Example: policy-tracker webhooks add https://app.example.com/hooks/policy
    """


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--events",
    help=f"Comma-separated: {', '.join(EVENT_TYPES)} (default: all).",
)
@click.option("--description", default="", help="Who receives them.")
@database_option
def webhooks_add(url: str, events: str | None, description: str, database_url: str | None) -> None:
    """Subscribe URL and print its signing secret (whsec_…) once.

    Example: policy-tracker webhooks add https://app.example.com/hooks --events notice.created
    """
    chosen = settings(database_url)
    wanted = parse_events(events)
    allowed = AllowList(chosen.webhook_allowed_hosts)
    with open_store(chosen, upgrade=True) as store:
        secret, info = store.write(
            lambda s: add_endpoint(s, url, wanted, allowed, utcnow(), description)
        )
    click.echo(secret)
    click.echo(
        f"added webhook {info.id} ({info.url}, events {','.join(info.events)}); "
        "the secret is shown only this once",
        err=True,
    )


@webhooks.command("list")
@database_option
def webhooks_list(database_url: str | None) -> None:
    """List endpoints: id, URL, events, state.

    Example: policy-tracker webhooks list
    """
    with open_store(settings(database_url), upgrade=True) as store, store.read() as session:
        found = list_endpoints(session, utcnow())
    if not found:
        click.echo("no webhooks; add one with: policy-tracker webhooks add URL")
    for e in found:
        state = "enabled" if e.enabled else f"disabled ({e.disabled_reason})"
        if e.rotating_until:
            state += f", old secret signs until {e.rotating_until:%Y-%m-%d %H:%M}Z"
        click.echo(f"{e.id}\t{e.url}\t{','.join(e.events)}\t{state}")


@webhooks.command("remove")
@click.argument("webhook_id")
@database_option
def webhooks_remove(webhook_id: str, database_url: str | None) -> None:
    """Stop sending to an endpoint; its pending deliveries are cancelled.

    Example: policy-tracker webhooks remove 2
    """
    with open_store(settings(database_url), upgrade=True) as store:
        info = store.write(lambda s: remove_endpoint(s, webhook_id, utcnow()))
    click.echo(f"removed webhook {info.id} ({info.url})")


@webhooks.command("rotate")
@click.argument("webhook_id")
@click.option(
    "--overlap-hours",
    type=float,
    help="Hours the old secret keeps signing too (default: webhook_rotation_overlap_hours).",
)
@database_option
def webhooks_rotate(webhook_id: str, overlap_hours: float | None, database_url: str | None) -> None:
    """Print a new secret once; the old one keeps signing beside it for the overlap.

    Example: policy-tracker webhooks rotate 2 --overlap-hours 48
    """
    chosen = settings(database_url)
    hours = chosen.webhook_rotation_overlap_hours if overlap_hours is None else overlap_hours
    overlap = rotation_overlap(hours)
    with open_store(chosen, upgrade=True) as store:
        secret, info = store.write(lambda s: rotate_secret(s, webhook_id, overlap, utcnow()))
    click.echo(secret)
    until = info.rotating_until
    click.echo(
        f"rotated webhook {info.id}; "
        + (
            f"the old secret signs too until {until:%Y-%m-%d %H:%M}Z"
            if until
            else "the old secret no longer signs"
        ),
        err=True,
    )


COMMANDS = [dispatch, webhooks]

"""``console-link``: a single-use sign-in link to the console at /console/."""

from __future__ import annotations

import getpass

import click

from tracker.cli.common import database_option, open_store, settings
from tracker.timeline import utcnow


@click.command("console-link")
@click.option(
    "--role",
    type=click.Choice(["viewer", "admin"]),
    default="viewer",
    show_default=True,
    help="viewer: sees every page; admin: also requests re-acceptance, replays deliveries, "
    "creates and revokes keys.",
)
@click.option(
    "--name",
    help="Who the link is for, as the audit log names their actions (default: your login).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="The tracker's address as the browser reaches it (default: POLICY_TRACKER_PUBLIC_URL, "
    "else POLICY_TRACKER_SITE_URL).",
)
@database_option
def console_link(
    role: str, name: str | None, base_url: str | None, database_url: str | None
) -> None:
    """Print a single-use link that signs in to the console (expires after
    POLICY_TRACKER_CONSOLE_LINK_SECONDS, 15 minutes by default).

    Example: policy-tracker console-link --role admin --name "Dana (legal)"
    """
    from tracker.console import new_link  # lazy: the console's pages, ~0.4 s to load

    chosen = settings(database_url)
    with open_store(chosen, require_schema=True) as store:
        url = new_link(store, chosen, role, name or getpass.getuser(), utcnow(), base_url or "")
    click.echo(url)
    click.echo(
        f"single-use {role} sign-in link; it expires in "
        f"{chosen.console_link_seconds // 60} minutes",
        err=True,
    )


COMMANDS = [console_link]

"""``import``: bring another system's policies and acceptances into the tracker
(tracker.importers)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tracker.cli import common
from tracker.cli.common import database_option
from tracker.timeline import utcnow


@click.group(name="import")
def import_group() -> None:
    """Import policies and acceptances from another system.

    Example: policy-tracker import django-termsandconditions --into policies --from sqlite:///db.sqlite3
    """


@import_group.command(name="django-termsandconditions")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="DATABASE_URL",
    help="The Django app's database: sqlite:///path/db.sqlite3 or postgresql://user@host/db "
    "(read only).",
)
@click.option(
    "--into",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The policy repository to make (a new folder, or one an earlier import made).",
)
@database_option
def django_termsandconditions(source: str, into: Path, database_url: str | None) -> None:
    """Import a django-termsandconditions database.

    Its TermsAndConditions become a policy repository in INTO, one commit per version dated
    by date_active, each declared major (the app made every version binding), published into
    the tracker's database; its UserTermsAndConditions become acceptances with their
    original date and IP address, method import. Running it again changes nothing; an
    interrupted import carries on where it stopped.

    Example: policy-tracker import django-termsandconditions --into policies --from sqlite:///db.sqlite3
    """
    from tracker.importers import import_termsandconditions  # lazy: ~0.2 s to load

    settings = common.settings(database_url)
    columns = (TextColumn("acceptances"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("acceptances", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = import_termsandconditions(settings, source, into, utcnow(), progress=progress)
    click.echo(
        f"policy repository {result.repository}: {result.versions} version(s) of "
        f"{len(result.policies)} polic{'y' if len(result.policies) == 1 else 'ies'} "
        f"({', '.join(result.policies)}), one commit each dated by date_active, every one "
        "declared major: django-termsandconditions made every version binding"
    )
    click.echo(f"published {result.versions_published} new version(s) into the tracker's database")
    click.echo(
        f"acceptances: {result.imported} imported, {result.already} already there, of "
        f"{result.acceptances} by {result.users} user(s); method import, original date and "
        "IP address" + ("" if settings.store_ip else " (not stored: POLICY_TRACKER_STORE_IP=false)")
    )
    if result.ip_past_retention:
        click.echo(
            f"{result.ip_past_retention} imported IP address(es) are older than "
            f"POLICY_TRACKER_RETENTION_IP_DAYS ({settings.retention_ip_days} days): the next "
            "policy-tracker purge blanks them"
        )
    click.echo(
        f"next: policy-tracker --repo {result.repository} serve  (user ids are the Django "
        "user's primary key, as tracker.client.django sends them)"
    )


COMMANDS = [import_group]

"""The audit: ``checkpoint``, ``verify``, ``export``, ``evidence``, ``verify-bundle``, ``purge``
and ``erase``. Each needs a migrated database (``policy-tracker db upgrade``).

Each command imports ``tracker.audit`` when it runs: the audit operations and jinja2 (for
the evidence page) add ~0.1 s to the start of every command, and only these need them."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
from rich.progress import Progress

from tracker.chain.checkpoint import load as load_checkpoint
from tracker.chain.checkpoint import load_public_key
from tracker.cli import common
from tracker.cli.common import database_option, output_option
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.catalog import load_snapshot
from tracker.timeline import utcnow


@contextmanager
def _store(database_url: str | None) -> Iterator[tuple[Store, Settings]]:
    settings = common.settings(database_url)
    with common.open_store(settings, require_schema=True) as store:
        yield store, settings


def _public_key(value: str | None, settings: Settings) -> Any:
    from tracker.audit import trusted_key  # lazy: see the module docstring

    return load_public_key(value) if value else trusted_key(settings)


@click.command()
@output_option("Also write the checkpoint to this file (keep it outside the database).")
@database_option
def checkpoint(output: Path | None, database_url: str | None) -> None:
    """Sign the audit chain's head (sequence, hash, time) with the audit key.

    Prints the checkpoint as JSON, or with -o writes it to FILE and says so; publish it
    somewhere the database's owners cannot rewrite (a repository, a ticket, an e-mail to
    the DPO).

    Example: policy-tracker checkpoint -o checkpoints/2026-11-25.json
    """
    from tracker.audit import checkpoint as make  # lazy: see the module docstring

    with _store(database_url) as (store, settings):
        cp = make(store, settings, utcnow())
    text = cp.dumps()
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"checkpoint #{cp.sequence} written to {output}")


@click.command()
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint file kept outside the database (repeatable).",
)
@click.option("--public-key", help="Trust only checkpoints of this key (base64 or PEM file).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@database_option
def verify(
    checkpoints: tuple[Path, ...], public_key: str | None, as_json: bool, database_url: str | None
) -> None:
    """Recompute the audit chain and check it against its checkpoints.

    Says "verified up to sequence N, anchored by checkpoint C", or names the first bad
    record and why; exits 1 when the chain is broken. A checkpoint anchors the chain only
    when its signature is checked against a trusted key: --public-key, or else the public
    half of POLICY_TRACKER_AUDIT_SIGNING_KEY.

    Example: policy-tracker verify --checkpoint checkpoints/2026-11-25.json
    """
    from tracker.audit import verify as run  # lazy: see the module docstring

    with _store(database_url) as (store, settings):
        trusted = _public_key(public_key, settings)
        external = [load_checkpoint(p, trusted=trusted) for p in checkpoints]
        report = run(store, settings, external, trusted)
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else report.message)
    if not report.ok:
        sys.exit(1)


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--policy", help="Only this policy.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only events from this date (UTC).",
)
@click.option("--user-id", help="Only this user's events.")
@output_option("File to write (default: stdout).")
@database_option
def export(
    fmt: str,
    policy: str | None,
    since: datetime | None,
    user_id: str | None,
    output: Path | None,
    database_url: str | None,
) -> None:
    """Export events with the accepted text's SHA-256, its site URL and the chain fields.

    JSON Lines (one event a line) or CSV; shows a progress bar on a terminal.

    Example: policy-tracker export --format csv --policy privacy -o evidence.csv
    """
    from tracker.audit import (  # lazy: see the module docstring
        export_count,
        export_filters,
        export_lines,
        export_rows,
        settle,
    )

    since_utc = since.replace(tzinfo=UTC) if since else None
    with _store(database_url) as (store, settings), store.read() as session:
        settle(store)
        snapshot = load_snapshot(session)
        where = export_filters(snapshot, policy, since_utc, user_id)
        total = export_count(session, where)
        out: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            with Progress(transient=True, disable=not sys.stderr.isatty(), console=None) as bar:
                task = bar.add_task("exporting", total=total)

                def counted(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
                    for n, row in enumerate(rows, 1):
                        if n % 1000 == 0:
                            bar.update(task, completed=n)
                        yield row

                rows = export_rows(session, snapshot, settings, where)
                out.writelines(export_lines(counted(rows), fmt))
        finally:
            if output:
                out.close()
    if output:
        click.echo(f"exported {total} event(s) to {output}", err=True)


@click.command()
@click.argument("user_id")
@output_option("Bundle file (default: evidence-<user>.json).")
@database_option
def evidence(user_id: str, output: Path | None, database_url: str | None) -> None:
    """Write a self-contained evidence bundle for USER_ID, and an HTML page beside it.

    The bundle holds the user's events, the exact texts they accepted, their notices, the
    chain fields and the latest checkpoint; `verify-bundle` checks it with no database.

    Example: policy-tracker evidence alice -o alice.json
    """
    from tracker.audit import bundle  # lazy: see the module docstring
    from tracker.audit import evidence as build

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user_id)
    path = output or Path(f"evidence-{safe}.json")
    with _store(database_url) as (store, settings):
        data = build(store, settings, user_id, utcnow())
        report = bundle.verify(data, trusted=_public_key(None, settings))
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html = path.with_suffix(".html")
    html.write_text(bundle.render_html(data, report), encoding="utf-8")
    click.echo(f"wrote {path} and {html}")
    click.echo(report.message)


@click.command("verify-bundle")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", help="Trust only a checkpoint of this key (base64 or PEM file).")
def verify_bundle(file: Path, public_key: str | None) -> None:
    """Check an evidence bundle offline: hashes, commitments, texts and checkpoint.

    Needs no database; exits 1 when the bundle is refused.

    Example: policy-tracker verify-bundle alice.json --public-key audit-key.pub.pem
    """
    from tracker.audit import bundle  # lazy: see the module docstring

    trusted = load_public_key(public_key) if public_key else None
    report = bundle.load(file, trusted=trusted)
    click.echo(report.message)
    if not report.ok:
        sys.exit(1)


@click.command()
@database_option
def purge(database_url: str | None) -> None:
    """Blank IP addresses, user agents and contexts older than their retention settings.

    Salts go with the values; the chain still verifies. Prints how many were blanked.

    Example: policy-tracker purge
    """
    from tracker.audit import purge as run  # lazy: see the module docstring

    with _store(database_url) as (store, settings):
        result = run(store, settings, utcnow())
    click.echo(result.summary())


@click.command()
@click.argument("user_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@database_option
def erase(user_id: str, yes: bool, database_url: str | None) -> None:
    """Erase USER_ID: remove their personal data and replace their id by a pseudonym.

    Counts and the chain stay verifiable; the erasure is recorded without the id.

    Example: policy-tracker erase alice --yes
    """
    from tracker.audit import erase as run  # lazy: see the module docstring

    if not yes:
        click.confirm(
            f"Erase every personal datum of {user_id!r}? This cannot be undone", abort=True
        )
    with _store(database_url) as (store, _settings):
        result = run(store, user_id, utcnow())
    click.echo(
        f"erased {user_id!r}: {result['events']} event(s) and {result['records']} other row(s) "
        f"now belong to {result['pseudonym']}"
    )


COMMANDS = [checkpoint, verify, export, evidence, verify_bundle, purge, erase]

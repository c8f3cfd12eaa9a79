"""The ``policy-tracker`` command: thin click commands over the library.

This is the one place that turns a ``TrackerError`` into a CLI error: one line on
stderr and a non-zero exit. ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from tracker.errors import TrackerError
from tracker.policy import Catalog, Policy, Version
from tracker.settings import Settings


def _console() -> Console:
    """A console for stdout; off a terminal, wide enough that tables do not fold."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


@dataclass
class Context:
    settings: Settings
    debug: bool

    def catalog(self, *, drafts: bool = True) -> Catalog:
        from tracker.history import read_catalog

        return read_catalog(
            self.settings.repository,
            source=self.settings.source,
            ref=self.settings.ref,
            drafts=drafts,
        )


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


pass_context = click.make_pass_decorator(Context)


@click.group(cls=TrackerGroup)
@click.option(
    "--repo",
    "repository",
    type=click.Path(file_okay=False, path_type=Path),
    help="The policy repository (default: the current directory).",
)
@click.option("--source", help="Folder of policy sources inside the repository (default: policy).")
@click.option("--ref", help="The publishing ref whose first-parent history makes versions.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="policy-tracker")
@click.pass_context
def cli(
    ctx: click.Context, repository: Path | None, source: str | None, ref: str | None, debug: bool
) -> None:
    """Publish versioned legal policies from git and track who accepted which version.

    Example: policy-tracker log privacy
    """
    settings = Settings.from_env(repository=repository, source=source, ref=ref)
    ctx.obj = Context(settings, debug)


# ---------------------------------------------------------------------------
# Reading versions


def _version_row(version: Version) -> dict[str, Any]:
    return {
        "policy": version.policy,
        "number": version.number,
        "commit": version.commit,
        "published": version.published.isoformat(),
        "effective": version.effective.isoformat(),
        "author": version.author,
        "title": version.title,
        "significance": str(version.significance),
        "significance_source": str(version.significance_source),
        "summary": version.summary,
        "sha256": version.sha256,
    }


def _policies(catalog: Catalog, slug: str | None) -> list[Policy]:
    return [catalog.get(slug)] if slug else sorted(catalog, key=lambda p: p.slug)


@cli.command()
@click.argument("policy", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def log(ctx: Context, policy: str | None, as_json: bool) -> None:
    """List versions, newest first: number, date, significance, summary, short hash.

    Example: policy-tracker log privacy --json
    """
    policies = _policies(ctx.catalog(), policy)
    if as_json:
        out = [
            {
                "policy": p.slug,
                "title": p.title,
                "aliases": list(p.aliases),
                "withdrawn": p.withdrawn,
                "versions": [_version_row(v) for v in reversed(p.versions)],
            }
            for p in policies
        ]
        click.echo(json.dumps(out if policy is None else out[0], indent=2))
        return
    for p in policies:
        table = Table(title=_policy_heading(p), title_justify="left", show_edge=False)
        for column in ("version", "published", "effective", "significance", "summary", "sha256"):
            table.add_column(column)
        for v in reversed(p.versions):
            table.add_row(
                f"v{v.number}",
                v.published.date().isoformat(),
                v.effective.isoformat(),
                f"{v.significance} ({v.significance_source})",
                v.summary,
                v.short_sha256,
            )
        _console().print(table)
        if p.draft is not None:
            _console().print(f"  [yellow]draft:[/] uncommitted edits to {p.draft.path}")
        _console().print()


def _policy_heading(policy: Policy) -> str:
    heading = f"{policy.slug} — {policy.title}"
    if policy.aliases:
        heading += f" (formerly {', '.join(policy.aliases)})"
    if policy.withdrawn:
        heading += " [withdrawn]"
    return heading


def _split_ref(spec: str) -> tuple[str, str | None]:
    slug, _, number = spec.partition("@")
    return slug, (number or None)


def _text_of(policy: Policy, which: str | None) -> tuple[str, str]:
    """(label, text) for a version number, ``draft`` or ``None`` (the latest version)."""
    if which == "draft":
        if policy.draft is None:
            raise TrackerError(f"policy {policy.slug} has no draft (no uncommitted edits)")
        return "draft", policy.draft.text
    if which is None:
        if policy.latest is None:
            if policy.draft is not None:
                return "draft", policy.draft.text
            raise TrackerError(f"policy {policy.slug} has no versions yet")
        return f"v{policy.latest.number}", policy.latest.text
    number = which.removeprefix("v")
    if not number.isdigit():
        raise TrackerError(f"{which!r} is not a version number; use e.g. 3, v3 or draft")
    version = policy.version(int(number))
    return f"v{version.number}", version.text


@cli.command()
@click.argument("spec", metavar="POLICY[@N]")
@pass_context
def show(ctx: Context, spec: str) -> None:
    """Print the text of a version (default: the current one, in force today).

    @N for version N, @latest for the newest (which may be upcoming), @draft for the
    uncommitted edits. Without a version in force yet, the newest is shown.

    Example: policy-tracker show privacy@2
    """
    slug, which = _split_ref(spec)
    policy = ctx.catalog().get(slug)
    if which is None:
        current = policy.current(datetime.now(UTC).date())
        which = None if current is None else str(current.number)
    elif which == "latest":
        which = None
    _, text = _text_of(policy, which)
    click.echo(text, nl=False)


@cli.command()
@click.argument("policy")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the redline as an HTML page to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the structured diff as JSON.")
@click.option("--stat", is_flag=True, help="Print the section summary only.")
@pass_context
def diff(
    ctx: Context,
    policy: str,
    a: str | None,
    b: str | None,
    html_file: Path | None,
    as_json: bool,
    stat: bool,
) -> None:
    """Redline between two versions (default: the latest version against the draft).

    A and B are version numbers or "draft"; with only A, B is the latest version.

    Example: policy-tracker diff privacy 1 2 --stat
    """
    from tracker.redline import compare, render_html, render_terminal

    target = ctx.catalog().get(policy)
    if a is None:
        if target.draft is None:
            latest = target.latest
            click.echo(
                f"policy {target.slug} has no draft: no uncommitted edits"
                + (
                    f" (latest is v{latest.number}); try: policy-tracker diff "
                    f"{target.slug} {max(latest.number - 1, 1)} {latest.number}"
                    if latest
                    else ""
                )
            )
            return
        old_label, old = _text_of(target, None)
        new_label, new = _text_of(target, "draft")
    else:
        old_label, old = _text_of(target, a)
        new_label, new = _text_of(target, b)
    redline = compare(old, new)
    if html_file is not None:
        from tracker.redline.page import standalone_page

        title = f"{target.title}: {old_label} → {new_label}"
        html_file.write_text(standalone_page(title, render_html(redline)), encoding="utf-8")
        click.echo(f"wrote {html_file}")
    if as_json:
        click.echo(
            json.dumps(
                {"policy": target.slug, "from": old_label, "to": new_label, **redline.to_dict()},
                indent=2,
            )
        )
    elif stat:
        _print_stat(target.slug, old_label, new_label, redline)
    elif html_file is None:
        _console().print(f"[bold]{target.slug}: {old_label} → {new_label}[/]")
        _console().print(render_terminal(redline))


def _print_stat(slug: str, old_label: str, new_label: str, redline: Any) -> None:
    table = Table(title=f"{slug}: {old_label} → {new_label}", title_justify="left", show_edge=False)
    for column in ("section", "change", "+words", "-words"):
        table.add_column(column)
    for section in redline.sections:
        table.add_row(
            " › ".join(section.section) or "(top)",
            section.change,
            str(section.words_inserted),
            str(section.words_deleted),
        )
    _console().print(table)
    _console().print(f"{redline.words_inserted} words inserted, {redline.words_deleted} deleted")


@cli.command()
@click.option(
    "--base", default=None, help="Report commits after this ref (default: the ref's first parent)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--no-drafts", is_flag=True, help="Ignore uncommitted edits.")
@pass_context
def check(ctx: Context, base: str | None, as_json: bool, no_drafts: bool) -> None:
    """Check changes before merge: what changed, and is it declared honestly?

    Fails when a change that is not editorial has no Policy-Change trailer, when a
    declared patch looks material, or when a trailer or front matter is invalid.
    Drafts are reported (with a suggested significance) but never fail: they carry
    no declaration until committed.

    Example: policy-tracker check --base origin/main
    """
    from tracker.check import check_changes, failed
    from tracker.history import commits_in_range

    settings = ctx.settings
    commits = commits_in_range(settings.repository, base, settings.ref)
    scope = f"{base}..{settings.ref}" if base else f"the last commit of {settings.ref}"
    reports = check_changes(ctx.catalog(drafts=not no_drafts), commits, drafts=not no_drafts)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        if not reports:
            _console().print(f"no policy changes in {scope}")
        for r in reports:
            declared = str(r.declared) if r.declared else "undeclared"
            mark = "[green]ok[/]" if r.ok else "[red]FAIL[/]"
            _console().print(
                f"{mark} [bold]{r.policy} {r.label}[/]"
                + (f" ({r.commit[:12]})" if r.commit else "")
                + f": declared {declared}, suggested {r.classification.suggested}; "
                f"+{r.redline.words_inserted} -{r.redline.words_deleted} words"
            )
            for section in r.redline.sections:
                _console().print(f"    {' › '.join(section.section) or '(top)'}: {section.change}")
            for reason in r.classification.reasons:
                _console().print(f"    [dim]why: {reason}[/]")
            for problem in r.problems:
                _console().print(f"    [red]{problem}[/]")
    if failed(reports):
        sys.exit(1)


def main() -> None:  # pragma: no cover - console script shim
    cli()


def _register_commands() -> None:
    """The tracker's commands live beside the code they drive; the CLI only lists them."""
    from tracker.audit.commands import COMMANDS as AUDIT
    from tracker.notices.commands import COMMANDS as NOTICES
    from tracker.service.commands import COMMANDS as SERVICE

    for command in (*SERVICE, *NOTICES, *AUDIT):
        cli.add_command(command)


_register_commands()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Build the site, then serve it with the tracker on the SQLite default.

    Prints an API key with every scope and a first request to try.

    Example: policy-tracker demo --port 8000
    """
    from tracker.demo import build_site, create_demo_key

    settings = ctx.find_object(Context).settings  # type: ignore[union-attr]
    _console().print("building the site with mkdocs …")
    site = build_site(settings)
    _console().print(f"site written to {site}")
    key = create_demo_key(settings)
    base = f"http://{host}:{port}"
    _console().print(
        f"demo API key (shown once): {key}\n"
        f"try: curl -H 'Authorization: Bearer {key}' {base}/v1/users/alice/status\n"
        f"site: {base}/"
    )
    ctx.invoke(
        serve_command(),
        host=host,
        port=port,
        workers=1,
        database_url=None,
        log_format="text",
        no_sync=False,
    )


def serve_command() -> click.Command:
    command = cli.get_command(click.get_current_context(), "serve")
    assert command is not None
    return command

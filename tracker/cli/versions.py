"""Reading versions: ``log``, ``show``, ``diff`` and the pre-merge ``check``."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from tracker.cli.common import Context, console, pass_context
from tracker.policy import Catalog, Policy, Version


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


@click.command()
@click.argument("policy", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def log(ctx: Context, policy: str | None, as_json: bool) -> None:
    """List versions, newest first: number, date, significance, summary, short hash.

    Example: policy-tracker log privacy --json
    """
    catalog = ctx.catalog()
    policies = _policies(catalog, policy)
    today, zone = ctx.today(), ctx.settings.zone
    if as_json:
        out = [
            {
                "policy": p.slug,
                "title": p.title,
                "aliases": list(p.aliases),
                "withdrawn": p.withdrawn,
                # each version under the policy's slug of today, with the file it was
                "versions": [
                    {**_version_row(v), "policy": p.slug, "path": v.path}
                    for v in reversed(p.versions)
                ],
                "translations": [
                    _translation_row(p, t, today, zone)
                    for _, t in sorted(catalog.translations.get(p.slug, {}).items())
                ],
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
        console().print(table)
        if p.draft is not None:
            console().print(f"  [yellow]draft:[/] uncommitted edits to {p.draft.path}")
        for tag, t in sorted(catalog.translations.get(p.slug, {}).items()):
            row = _translation_row(p, t, today, zone)
            if row["withdrawn"]:
                state = f"withdrawn on {row['withdrawn_on']} by commit {row['withdrawn_by'][:12]}"
                if p.withdrawn and p.gaps and p.gaps[-1].commit == row["withdrawn_by"]:
                    state += f" with {p.slug}"
            else:
                state = row["state"] + (f" since v{row['since']}" if row["since"] else "")
            console().print(
                f"  translation {tag} ({t.path}): v{len(t.versions)} translates "
                f"v{row['translates']}, {state}"
            )
        console().print()


def _translation_row(
    source: Policy, translation: Policy, today: date, zone: ZoneInfo
) -> dict[str, Any]:
    """A translation in ``log --json``: its staleness today and its versions, newest first."""
    # lazy: git reading (~0.2 s to load); only log --json with translations needs it
    from tracker.history.translations import freshness, withdrawal

    state = freshness(source, translation, today)
    gone = withdrawal(translation)
    return {
        "language": translation.language,
        "path": translation.path,
        "withdrawn": translation.withdrawn,
        "state": str(state.state),
        "translates": state.translates,
        "source_version": state.source,
        "since": state.since,
        # the day in the publisher's zone, and the commit that deleted it (or its source)
        "withdrawn_on": gone.withdrawn.astimezone(zone).date().isoformat() if gone else None,
        "withdrawn_by": gone.commit if gone else None,
        "versions": [
            {**_version_row(v), "path": v.path, "translates": v.translates}
            for v in reversed(translation.versions)
        ],
    }


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


@click.command()
@click.argument("spec", metavar="POLICY[@N]")
@pass_context
def show(ctx: Context, spec: str) -> None:
    """Print the text of a version (default: the current one, in force today).

    @N for version N, @latest for the newest (which may be upcoming), @draft for the
    uncommitted edits. Without a version in force yet, the newest is shown.

    Example: policy-tracker show privacy@2
    """
    slug, which = _split_ref(spec)
    _, text = ctx.catalog().get(slug).text_on(which, ctx.today())
    click.echo(text, nl=False)


@click.command()
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
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the changes; off a terminal (auto) or with never, changes are marked "
    "[-deleted-]{+inserted+} as in git diff --word-diff.",
)
@pass_context
def diff(
    ctx: Context,
    policy: str,
    a: str | None,
    b: str | None,
    html_file: Path | None,
    as_json: bool,
    stat: bool,
    color: str,
) -> None:
    """Redline between two versions (default: the latest version against the draft).

    A and B are version numbers or "draft"; with only A, B is the latest version.
    Piped or in a CI log, insertions read {+like this+} and deletions [-like this-].

    Example: policy-tracker diff privacy 1 2 --stat
    """
    # lazy: the diff engine adds ~0.3 s to every command's start; only diff needs it
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
        old_label, old = target.text_of(None)
        new_label, new = target.text_of("draft")
    else:
        old_label, old = target.text_of(a)
        new_label, new = target.text_of(b)
    redline = compare(old, new)
    if html_file is not None:
        from tracker.redline.page import standalone_page  # lazy: as the diff engine above

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
        colours = color == "always" or (color == "auto" and sys.stdout.isatty())
        out = Console(
            highlight=False,
            width=None if sys.stdout.isatty() else 200,
            force_terminal=True if color == "always" else None,
            no_color=not colours,
        )
        out.print(f"[bold]{target.slug}: {old_label} → {new_label}[/]")
        out.print(render_terminal(redline, marks=not colours))


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
    console().print(table)
    console().print(f"{redline.words_inserted} words inserted, {redline.words_deleted} deleted")


@click.command()
@click.option(
    "--base", default=None, help="Report commits after this ref (default: the ref's first parent)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option(
    "--format",
    "form",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: the report as a pull-request comment (collapsed redlines, under 65,536 "
    "characters); json: as --json.",
)
@click.option("--no-drafts", is_flag=True, help="Ignore uncommitted edits.")
@pass_context
def check(ctx: Context, base: str | None, as_json: bool, form: str, no_drafts: bool) -> None:
    """Check changes before merge: what changed, and is it declared honestly?

    The rule: check fails on an undeclared change that looks material (the classifier
    suggests major), on a declared patch that looks material, on a link to a policy that
    never existed, on an invalid trailer or front matter, and on a version that takes
    effect before an earlier upcoming major version without declaring Policy-Effective
    (it brings that version's change forward, cutting its notice period short). It warns,
    naming both versions and the days of notice skipped, whenever a version takes effect
    before an earlier upcoming one. An undeclared minor change is reported, not refused.
    Drafts are reported (with a suggested significance) but never fail: they carry no
    declaration until committed.

    With --format markdown the report is a pull-request comment: per change, the declared and
    suggested significance, the sections changed, the problems and a collapsed redline.

    Example: policy-tracker check --base origin/main --format markdown
    """
    # lazy: the check reads git and diffs (~0.3 s to load); only this command needs it
    from tracker.check import check_repository, failed
    from tracker.check.markdown import render

    settings = ctx.settings
    reports = check_repository(
        settings.repository,
        source=settings.source,
        ref=settings.ref,
        base=base,
        drafts=not no_drafts,
        zone=settings.zone,
    )
    scope = f"{base}..{settings.ref}" if base else f"the last commit of {settings.ref}"
    if as_json or form == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    elif form == "markdown":
        click.echo(render(reports, scope=scope), nl=False)
    else:
        if not reports:
            console().print(f"no policy changes in {scope}")
        for r in reports:
            declared = str(r.declared) if r.declared else "undeclared"
            mark = "[green]ok[/]" if r.ok else "[red]FAIL[/]"
            console().print(
                f"{mark} [bold]{r.policy} {r.label}[/]"
                + (f" ({r.commit[:12]})" if r.commit else "")
                + f": declared {declared}, suggested {r.classification.suggested}; "
                f"+{r.redline.words_inserted} -{r.redline.words_deleted} words"
            )
            for section in r.redline.sections:
                console().print(f"    {' › '.join(section.section) or '(top)'}: {section.change}")
            for reason in r.classification.reasons:
                console().print(f"    [dim]why: {reason}[/]")
            for warning in r.warnings:
                console().print(f"    [yellow]warning: {warning}[/]")
            for problem in r.problems:
                console().print(f"    [red]{problem}[/]")
    if failed(reports):
        sys.exit(1)


COMMANDS = [log, show, diff, check]

"""Starting a policy repository: ``init``."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.publish.starter import start_repository

#: What each starter file is for, as ``init`` reports it.
PURPOSE = {
    "policy/privacy.md": "an example policy, its front matter explained: make it yours",
    "mkdocs.yml": "the site, built by MkDocs with the policy-tracker plugin",
    "docs/index.md": "the site's home page (the list of policies is added below it)",
    ".gitignore": "keeps the built site, the cache, databases and keys out of git",
    ".github/workflows/policies.yml": "CI: check on pull requests; build and sync on main",
    "requirements.txt": "the policy-tracker release CI installs",
}


@click.command()
@click.argument(
    "folder", required=False, default=".", type=click.Path(file_okay=True, path_type=Path)
)
def init(folder: Path) -> None:
    """Start a policy repository in FOLDER (default: the current one).

    Writes an example policy, mkdocs.yml, docs/index.md, .gitignore and a CI workflow;
    refuses, writing nothing, if any of them exists.

    Example: policy-tracker init policies
    """
    started = start_repository(folder)
    where = "this folder" if str(folder) == "." else f"{folder}/"
    click.echo(f"created in {where}:")
    width = max(len(path) for path in started.created)
    for path in started.created:
        click.echo(f"  {path.ljust(width)}  {PURPOSE.get(path, '')}".rstrip())
    click.echo("next:")
    if str(folder) != ".":
        click.echo(f"  cd {folder}")
    click.echo(
        '  git init && git add -A && git commit -m "First policies" -m "Policy-Change: major"'
    )
    click.echo("  mkdocs build --strict      # the site, in site/ (mkdocs serve previews it)")
    click.echo("  policy-tracker check       # what a change does; CI runs it on pull requests")


COMMANDS = [init]

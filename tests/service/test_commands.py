"""The service's click commands: db, keys, sync (on real git repositories), serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from tests.gitrepo import GitRepo
from tests.servers import free_port, wait_for_health
from tracker import migrations
from tracker.cli import cli
from tracker.cli.db import db
from tracker.cli.keys import keys
from tracker.cli.serve import COMMANDS as SERVE
from tracker.cli.serve import sync

PRIVACY = "---\ntitle: Privacy Policy\nnotice_days: 30\n---\n\n## Data\n\nWe collect {what}.\n"


def run(command: click.Command, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(command, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_help_ends_with_an_example() -> None:
    def walk(cmd: click.Command) -> list[click.Command]:
        found = [cmd]
        if isinstance(cmd, click.Group):
            for sub in cmd.commands.values():
                found += walk(sub)
        return found

    for cmd in [c for top in (*SERVE, db, keys) for c in walk(top)]:
        assert (
            (cmd.help or "").strip().splitlines()[-1].strip().startswith("Example: policy-tracker")
        ), cmd


def test_db_upgrade_current_downgrade(db_url: str) -> None:
    assert "database at revision" in run(db, "upgrade", "--database-url", db_url)
    out = run(db, "current", "--database-url", db_url)
    head = migrations.head()
    assert f"database: {head}" in out and f"head: {head}" in out
    assert "base" in run(db, "downgrade", "base", "--database-url", db_url)
    assert "database: empty" in run(db, "current", "--database-url", db_url)


def test_keys_revoke_on_a_new_database_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    result = CliRunner().invoke(cli, ["keys", "revoke", "3", "--database-url", url])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no API key with id or prefix '3'"


def test_keys_create_list_revoke(db_url: str) -> None:
    out = run(keys, "create", "--name", "web", "--scopes", "read,write", "--database-url", db_url)
    key = out.strip().splitlines()[0]
    assert key.startswith("ptk_")
    listed = run(keys, "list", "--database-url", db_url)
    assert "web" in listed and "read,write" in listed and key not in listed
    assert "revoked key 1" in run(keys, "revoke", "1", "--database-url", db_url)
    assert "revoked" in run(keys, "list", "--database-url", db_url)


def test_keys_create_refuses_unknown_scopes(db_url: str) -> None:
    result = CliRunner().invoke(
        keys, ["create", "--name", "x", "--scopes", "root", "--database-url", db_url]
    )
    assert result.exit_code != 0


def _repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "Privacy policy\n\nPolicy-Change: major",
        {"policy/privacy.md": PRIVACY.format(what="your name")},
    )
    repo.commit(
        "Mention email\n\nPolicy-Change: minor",
        {"policy/privacy.md": PRIVACY.format(what="your name and email")},
    )
    return repo


def test_sync_is_idempotent_and_refuses_rewritten_history(tmp_path: Path, db_url: str) -> None:
    repo = _repo(tmp_path)
    env = {"POLICY_TRACKER_REPOSITORY": str(repo.path), "DATABASE_URL": db_url}
    out = run(sync, env=env)
    assert "privacy v1" in out and "privacy v2" in out
    assert "no new versions; 2 version(s) already stored" in run(sync, env=env)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit(
        "Rewritten\n\nPolicy-Change: minor",
        {"policy/privacy.md": PRIVACY.format(what="your name and phone")},
    )
    result = CliRunner().invoke(sync, [], env=env)
    assert result.exit_code != 0
    message = str(result.exception)
    assert "version 2" in message and message.count("SHA-256") == 1
    hashes = [w for w in message.replace(";", " ").split() if len(w) == 64]
    assert len(hashes) == 2 and hashes[0] != hashes[1]


def test_serve_creates_migrates_syncs_and_answers(tmp_path: Path) -> None:
    """``serve`` in a repository: a working tracker from one command (real uvicorn)."""
    repo = _repo(tmp_path)
    (repo.path / "site").mkdir()
    (repo.path / "site" / "index.html").write_text("<h1>Policies</h1>")
    db_file = repo.path / "tracker.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "POLICY_TRACKER_REPOSITORY": str(repo.path),
    }
    port = free_port()
    code = (
        f"from tracker.cli.serve import serve; serve(['--port', '{port}', '--log-format', 'json'])"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=repo.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_health(base, lambda: str(proc.communicate()) if proc.poll() is not None else None)
        key = run(
            keys,
            "create",
            "--name",
            "demo",
            "--scopes",
            "read",
            "--database-url",
            env["DATABASE_URL"],
        ).splitlines()[0]
        r = httpx.get(f"{base}/v1/policies/privacy", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and r.json()["latest_version"] == 2
        assert "<h1>Policies</h1>" in httpx.get(f"{base}/").text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    lines = [line for line in err.splitlines() if line.startswith("{")]
    assert lines, err
    assert all("level" in json.loads(line) for line in lines)
    assert any(json.loads(line).get("path") == "/v1/policies/privacy" for line in lines)


@pytest.mark.parametrize("name", ["serve", "sync", "db", "keys"])
def test_command_names(name: str) -> None:
    # the group loads a command's module when the command is asked for, not at import
    with click.Context(cli) as ctx:
        assert name in cli.list_commands(ctx)
        command = cli.get_command(ctx, name)
    assert command is not None and command.name == name

"""The audit commands end to end on a SQLite file: one line on bad input, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

from tests.audit.conftest import SEED
from tracker import migrations
from tracker.audit.commands import COMMANDS
from tracker.cli import TrackerGroup
from tracker.settings import Settings
from tracker.store import Store


def _cli() -> click.Group:
    group = TrackerGroup("policy-tracker")
    for command in COMMANDS:
        group.add_command(command)
    return group


def test_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.sqlite3'}"
    env = {"DATABASE_URL": url, "POLICY_TRACKER_AUDIT_SIGNING_KEY": SEED}
    runner = CliRunner()

    def run(*args: Any) -> Any:
        return runner.invoke(_cli(), [str(a) for a in args], env=env)

    store = Store.open(Settings(database_url=url))
    migrations.upgrade(store.engine)
    store.dispose()
    assert run("verify").output.strip() == "the audit log is empty: nothing to verify"
    bad = run("checkpoint")
    assert bad.exit_code == 1 and "nothing to checkpoint" in bad.output
    assert "Traceback" not in bad.output
    (tmp_path / "bundle.json").write_text("{nope")
    refused = run("verify-bundle", tmp_path / "bundle.json")
    assert refused.exit_code == 1 and "is not valid JSON" in refused.output
    (tmp_path / "cp.json").write_text(json.dumps({"format": "x"}))
    refused = run("verify", "--checkpoint", tmp_path / "cp.json")
    assert refused.exit_code == 1 and "format is 'x'" in refused.output
    assert run("purge").output.strip() == (
        "purged 0 IP address(es), 0 user agent(s), 0 context object(s)"
    )
    missing = run("erase", "nobody", "--yes")
    assert missing.exit_code == 1 and "no data for user 'nobody'" in missing.output

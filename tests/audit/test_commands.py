"""The audit commands end to end on a SQLite file: one line on bad input, never a traceback."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.audit.helpers import SEED, accept, publish
from tracker import audit, migrations
from tracker.cli.audit import COMMANDS
from tracker.cli.common import TrackerGroup
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
        "purged 0 IP address(es), 0 user agent(s), 0 context object(s), "
        "0 stored idempotent response(s)"
    )
    missing = run("erase", "nobody", "--yes")
    assert missing.exit_code == 1 and "no data for user 'nobody'" in missing.output


def test_verify_anchors_only_with_a_trusted_key(
    api: Any, store: Store, settings: Settings, clock: Any
) -> None:
    """`verify` checks stored checkpoints against --public-key, else the configured key;
    with neither it says the signature could not be checked, in one line."""
    publish(api)
    accept(api, "alice")
    audit.checkpoint(store, settings, clock.now)
    public = audit.trusted_key(settings)
    assert public is not None
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    env = {"DATABASE_URL": settings.database_url, "POLICY_TRACKER_AUDIT_SIGNING_KEY": ""}

    def run(*args: Any) -> Any:
        return CliRunner().invoke(_cli(), ["verify", *args], env=env)

    unkeyed = run()
    assert unkeyed.exit_code == 0 and len(unkeyed.output.splitlines()) == 1
    assert "anchored" not in unkeyed.output
    assert "could not be checked against a trusted key" in unkeyed.output
    assert json.loads(run("--json").output)["anchored"] is False
    keyed = run("--public-key", base64.b64encode(raw).decode())
    assert keyed.output.startswith("verified up to sequence 1, anchored by checkpoint #1")
    other = Ed25519PrivateKey.generate().public_key()
    raw_other = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    refused = run("--public-key", base64.b64encode(raw_other).decode())
    assert refused.exit_code == 1 and "not by the trusted key" in refused.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_writes_what_the_api_streams(
    api: Any, settings: Settings, tmp_path: Path, fmt: str
) -> None:
    """`export` and GET /v1/admin/export format events one way: the same bytes."""
    publish(api, 1, 2)
    accept(api, "alice", context={"page": "/join", "note": "é"}, ip="192.0.2.7")
    accept(api, "bob", 2)
    env = {"DATABASE_URL": settings.database_url, "POLICY_TRACKER_SITE_URL": settings.site_url}
    path = tmp_path / f"events.{fmt}"
    result = CliRunner().invoke(_cli(), ["export", "--format", fmt, "-o", str(path)], env=env)
    assert result.exit_code == 0, result.output
    streamed = api.get(f"/v1/admin/export?format={fmt}").content
    assert path.read_bytes() == streamed
    assert streamed.count(b"\n") == (3 if fmt == "csv" else 2)


def test_checkpoint_prints_what_docs_audit_shows(
    api: Any, store: Store, settings: Settings
) -> None:
    """docs/audit.md's checkpoint is what ``policy-tracker checkpoint`` prints (its values
    are this run's): the same fields, format, and the shapes of hash, time and key id."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    shown = next(
        json.loads(block)
        for block in re.findall(r"```json\n(.*?)\n```", doc, re.S)
        if "policy-tracker/checkpoint/1" in block
    )
    publish(api, 1)
    accept(api, "u1", 1)
    env = {
        "POLICY_TRACKER_DATABASE_URL": settings.database_url,
        "POLICY_TRACKER_AUDIT_SIGNING_KEY": SEED,
    }
    printed = CliRunner().invoke(_cli(), ["checkpoint"], env=env)
    assert printed.exit_code == 0, printed.output
    got = json.loads(printed.stdout)
    assert list(got) == list(shown)
    assert got["format"] == shown["format"] and got["sequence"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", got["head_hash"])
    assert re.fullmatch(r"[0-9a-f]{16}", got["key_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", got["time"])
    assert len(base64.b64decode(got["public_key"])) == 32
    assert len(base64.b64decode(got["signature"])) == 64

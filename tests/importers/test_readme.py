"""README's "Coming from django-termsandconditions" runs as written: its two commands, in a
folder holding the app's ``db.sqlite3``, import it and serve a tracker that tells every user
what the app tells them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.importers.helpers import build_peer
from tests.servers import free_port, wait_for_health

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- django-termsandconditions -->\n```\n(.*?)\n```\n<!-- /django-termsandconditions -->",
        readme,
        re.S,
    )
    assert found, "README.md has no django-termsandconditions block"
    lines = found.group(1).strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("policy-tracker ") for line in lines)
    return [f"{BIN}/{line}" for line in lines]


def test_the_readme_commands_run(tmp_path: Path, db_url: str) -> None:
    """As written (the tracker's database in the folder), and with the tracker on
    PostgreSQL through ``POLICY_TRACKER_DATABASE_URL``, which every command reads."""
    peer = build_peer(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POLICY_TRACKER_") and k != "DATABASE_URL"
    }
    if not db_url.startswith("sqlite"):
        env["POLICY_TRACKER_DATABASE_URL"] = db_url
    imported, serve = _commands()
    done = subprocess.run(
        ["bash", "-c", imported], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "every one declared major" in done.stdout
    # The tracker's database is where the settings say: the folder's file, or PostgreSQL.
    assert (tmp_path / "policy-tracker.sqlite3").exists() == db_url.startswith("sqlite")
    key = subprocess.run(
        [f"{BIN}/policy-tracker", "keys", "create", "--name", "check", "--scopes", "read"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        ["bash", "-c", f"exec {serve} --port {port}"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(
            base,
            lambda: (tmp_path / "serve.log").read_text() if process.poll() is not None else None,
            timeout=120,
        )
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            for user, expected in peer["not_agreed"].items():
                policies = http.get(f"/v1/users/{user}/status").json()["policies"]
                needs = sorted(p["policy"] for p in policies if p["needs_acceptance"])
                assert needs == expected, user
    finally:
        process.terminate()
        process.wait(30)
        log.close()

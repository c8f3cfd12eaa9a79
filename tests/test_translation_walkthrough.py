"""The translation walkthroughs run as written: README.md's and docs/site.md's, a source
and its German translation from the first commit to an acceptance of the German text, the
evidence bundle checked; docs/site.md's goes on to a major change that check refuses until
the translation is declared pending.
Every ``$`` command runs in a fresh folder (the server on a free port); each output line the
page shows (``…`` standing for the elided part) is in the command's output."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def steps(page: str) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown after it) of a page's walkthrough, in order."""
    text = (ROOT / page).read_text(encoding="utf-8")
    block = re.search(
        r"<!-- translation-walkthrough -->\n```\n(.*?)\n```\n<!-- /translation-walkthrough -->",
        text,
        re.S,
    )
    assert block is not None
    out: list[tuple[str, list[str]]] = []
    lines = block.group(1).splitlines()
    i = 0
    while i < len(lines):
        assert lines[i].startswith("$ "), lines[i]
        command = lines[i][2:]
        i += 1
        while command.count('"') % 2:  # a quoted argument over several lines
            command += "\n" + lines[i]
            i += 1
        shown = []
        while i < len(lines) and not lines[i].startswith("$ "):
            shown.append(lines[i])
            i += 1
        out.append((command, shown))
    return out


def _pattern(line: str) -> str:
    return ".*".join(re.escape(part) for part in line.split("…"))


@pytest.mark.parametrize("page", ["README.md", "docs/site.md"])
def test_the_translation_walkthrough_runs_as_written(tmp_path: Path, page: str) -> None:
    port = str(free_port())
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "COLUMNS": "250",
        "GIT_AUTHOR_NAME": "Legal Editor",
        "GIT_AUTHOR_EMAIL": "legal@example.com",
        "GIT_COMMITTER_NAME": "Legal Editor",
        "GIT_COMMITTER_EMAIL": "legal@example.com",
    }
    env = {k: v for k, v in env.items() if not k.startswith("POLICY_TRACKER_")}
    cwd = tmp_path
    server: subprocess.Popen[bytes] | None = None
    log = (tmp_path / "serve.log").open("wb")
    try:
        for command, shown in steps(page):
            command = command.replace("8000", port)
            if command.endswith(" && cd policies"):
                command = command.removesuffix(" && cd policies")
                subprocess.run(["bash", "-c", command], cwd=cwd, env=env, check=True)
                cwd = cwd / "policies"
                continue
            if command.startswith("export "):
                done = subprocess.run(
                    ["bash", "-c", f"{command} && env -0"], cwd=cwd, env=env,
                    capture_output=True, text=True,
                )  # fmt: skip
                assert done.returncode == 0, f"{command}\n{done.stderr}"
                env = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
                continue
            if command.endswith("&"):
                server = subprocess.Popen(
                    ["bash", "-c", "exec " + command.rstrip("&").strip()],
                    cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
                _wait_for(f"http://127.0.0.1:{port}/healthz", server, tmp_path / "serve.log")
                continue
            done = subprocess.run(
                ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            for line in shown:
                expected = _pattern(line.replace("8000", port))
                assert re.search(expected, done.stdout), f"{command}\n{line}\n{done.stdout}"
            if command.startswith("policy-tracker log privacy") and "--json" not in command:
                assert (
                    "translation de (policy/privacy.de.md): v1 translates v1, stale since v2"
                    in (" ".join(done.stdout.split()))
                ), done.stdout
            if command.startswith("policy-tracker evidence"):
                assert "2 exact text(s) match their SHA-256" in done.stdout, done.stdout
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer: {log.read_text()}")

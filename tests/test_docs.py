"""The docs are tested: every command and setting is documented, the Quick start runs."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import fields
from pathlib import Path

import click
import httpx
import pytest

from tracker.cli import cli
from tracker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, full + " "))
    return found


def _block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```\n(.*?)\n```\n<!-- /{marker} -->", README, re.S)
    assert match, f"README.md has no {marker} block"
    return match.group(1).strip()


@pytest.mark.parametrize("name", [name for name, _ in _commands(cli)])
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"policy-tracker {name}" in README, f"README.md does not document `{name}`"


def test_the_readme_command_table_is_one_table() -> None:
    from markdown_it import MarkdownIt

    section = README.split("## The command line", 1)[1].split("### ", 1)[0]
    html = MarkdownIt("commonmark").enable("table").render(section)
    assert html.count("<table>") == 1
    table = html.split("<table>", 1)[-1].split("</table>", 1)[0]
    cells = re.findall(r"<code>policy-tracker ([a-z-]+)", table)
    top = {name.split()[0] for name, _ in _commands(cli)}
    assert top <= set(cells), top - set(cells)


@pytest.mark.parametrize("name,command", _commands(cli))
def test_every_command_help_ends_with_an_example(name: str, command: click.Command) -> None:
    assert command.help, f"{name} has no help"
    last = command.help.strip().splitlines()[-1].strip()
    assert last.startswith("Example: policy-tracker"), f"{name}: help ends with {last!r}"


@pytest.mark.parametrize("field", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(field: str) -> None:
    assert f"POLICY_TRACKER_{field.upper()}" in README, f"setting {field} is not in README.md"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci, ".ci/run must take its test command from README.md"
    assert _block("test-command").startswith("python3 -m venv .venv")


@pytest.mark.slow
def test_the_quick_start_demo_command_runs(tmp_path: Path) -> None:
    """Run the README's first command on a fresh clone; the site and the API answer."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # The working tree under test, not only what is committed.
    for path in ("tracker", "pyproject.toml", "mkdocs.yml", "docs", "policy"):
        subprocess.run(["cp", "-r", str(ROOT / path), str(clone / Path(path).parent)], check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    command = _block("demo-command") + f" --port {port}"
    log = tmp_path / "demo.log"
    out = log.open("w")
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=clone,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(1)
        else:
            pytest.fail("the demo did not start within 10 minutes")
        page = httpx.get(f"http://127.0.0.1:{port}/privacy/", timeout=10)
        assert page.status_code == 200 and "Last updated" in page.text
        assert (clone / "site" / "versions.json").is_file()
        key = re.search(r"ptk_\S+", log.read_text())
        assert key, log.read_text()
        status = httpx.get(
            f"http://127.0.0.1:{port}/v1/users/alice/status",
            headers={"Authorization": f"Bearer {key.group(0)}"},
            timeout=10,
        )
        assert status.status_code == 200
        assert status.json()["policies"][0]["state"] == "never_accepted"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        out.close()

"""The docs are tested: every command and setting is documented, the Quick start runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.servers import free_port, wait_for_health
from tracker.cli import cli
from tracker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    # list_commands/get_command, not group.commands: the top group loads commands lazily
    found = []
    with click.Context(group) as ctx:
        named = [(name, group.get_command(ctx, name)) for name in group.list_commands(ctx)]
    for name, command in named:
        assert command is not None, f"{prefix}{name} is listed but does not load"
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
def test_the_quick_start_demo_command_runs(tmp_path: Path, pg_url: str) -> None:
    """Run the README's first command on a fresh clone; the site and the API answer. Then
    every later README block that shows commands, in the order written: the tracker
    service's, the production one against PostgreSQL (a fresh schema), the webhooks one
    with a loopback receiver, the notice walkthrough and the evidence section."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # The working tree under test, not only what is committed.
    for path in ("tracker", "pyproject.toml", "mkdocs.yml", "docs", "policy", "examples"):
        subprocess.run(["cp", "-r", str(ROOT / path), str(clone / Path(path).parent)], check=True)
    port = str(free_port())
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
        env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
        env["PATH"] = f"{clone / '.venv' / 'bin'}:{env['PATH']}"  # installed, as in production
        _run_block("tracker-service", clone, dict(env), port)
        _run_production_postgresql(clone, dict(env), pg_url)
        with _receiver() as (hook, received):
            hooks_env = {**env, "POLICY_TRACKER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
            started = _run_block(
                "webhooks-intro", clone, hooks_env, port, {"https://shop.example.com": hook}
            )
            dispatcher = started["policy-tracker dispatch"]
            try:
                _walk_through_a_major_change(clone, port, key.group(0))
                _wait_for_deliveries(received, dispatcher)
            finally:
                dispatcher.send_signal(signal.SIGTERM)
                _, err = dispatcher.communicate(timeout=60)
            # the long-running dispatcher stops cleanly on SIGTERM, as the README says
            assert dispatcher.returncode == 0 and "dispatched" in err, err
            _verify_deliveries(received, hooks_env["WEBHOOK_SECRET_SHOWN"])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        out.close()


def _walkthrough() -> list[str]:
    """The README's notice walkthrough: its ``$`` commands, continuation lines joined."""
    text = _block("notice-walkthrough").replace("\\\n", " ")
    return [line[2:].strip() for line in text.splitlines() if line.startswith("$ ")]


def _walk_through_a_major_change(clone: Path, port: str, key: str) -> None:
    """Run the README's walkthrough on the running demo: a major change creates a notice that
    the status answer shows, and signed webhooks that the example app verifies."""
    app_port = str(free_port())
    env = {
        **os.environ,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "GIT_AUTHOR_NAME": "Legal Editor",
        "GIT_AUTHOR_EMAIL": "legal@example.com",
        "GIT_COMMITTER_NAME": "Legal Editor",
        "GIT_COMMITTER_EMAIL": "legal@example.com",
    }
    secret = ""
    app: subprocess.Popen[str] | None = None
    outputs: dict[str, str] = {}
    try:
        for command in _walkthrough():
            command = (
                command.replace("8001", app_port)
                .replace("8000", port)
                .replace("ptk_…", key)
                .replace("whsec_…", secret)
            )
            if command.startswith("export "):
                # Run it, and keep the environment it leaves (``export X=$(command)``).
                done = subprocess.run(
                    ["bash", "-c", f"{command.split('  #')[0]} && env -0"],
                    cwd=clone,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                assert done.returncode == 0, f"{command}\n{done.stderr}"
                env = dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)
                continue
            if command.endswith("&"):
                app_log = (clone / "example-app.log").open("w")
                app = subprocess.Popen(
                    ["bash", "-c", "exec env " + command.rstrip("&").strip()],
                    cwd=clone,
                    env=env,
                    stdout=app_log,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                _wait_for(f"http://127.0.0.1:{app_port}/hooks/policy-tracker", app)
                continue
            if command.startswith("curl -s"):
                time.sleep(1.5)  # the service's catalog may be catalog_cache_seconds (1 s) old
            done = subprocess.run(
                ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            outputs[command.split()[0].rsplit("/", 1)[-1] + " " + command.split()[1]] = done.stdout
            if "webhooks add" in command:
                found = re.search(r"whsec_\S+", done.stdout)
                assert found, done.stdout
                secret = found.group(0)
        assert "privacy v2" in outputs["policy-tracker sync"], outputs
        assert outputs["policy-tracker sync"] in _block("notice-walkthrough"), outputs
        status = json.loads(outputs["curl -s"])["policies"][0]
        # privacy.md sets notice_days: 30, so the major version is upcoming for 30 days
        assert status["upcoming"]["version"] == 2 and status["upcoming"]["significance"] == "major"
        assert status["accept_by"] == status["upcoming"]["effective"]
        notice = status["notices"][0]
        assert (notice["from_version"], notice["to_version"]) == (1, 2)
        assert notice["redline_url"].endswith("/privacy/changes/1-2/")
        seen = httpx.get(f"http://127.0.0.1:{app_port}/hooks/policy-tracker", timeout=10).json()
        types = [event["type"] for event in seen]
        assert types.count("policy.version_published") == 1, seen
        assert "acceptance.recorded" in types and "notice.created" in types
        told = next(e for e in seen if e["type"] == "notice.created")
        assert sorted(told["data"]["user_ids"]) == ["alice", "dave"]  # dave: the service block
        published = next(e for e in seen if e["type"] == "policy.version_published")
        assert published["data"]["version"] == 2 and published["data"]["policy"] == "privacy"
        assert app is not None
        env["PATH"] = f"{clone / '.venv' / 'bin'}:{env['PATH']}"
        for marker in ("evidence-checkpoint", "evidence-export"):
            _run_block(marker, clone, env, port)
        _every_link_answers(clone, env, port, key, [status, *(e["data"] for e in seen)])
        for marker in ("evidence-erase", "evidence-backup", "evidence-tamper"):
            _run_block(marker, clone, env, port)
    finally:
        if app is not None:
            app.terminate()
            app.wait(timeout=10)
            app_log.close()
    log = (clone / "example-app.log").read_text()
    # every delivery the app answered (the README's long-running dispatcher also delivers
    # the evidence section's acceptances) it verified first
    answered = log.count('"POST /hooks/policy-tracker HTTP/1.1" 204')
    assert log.count("webhook verified:") == answered >= len(seen), log


def _urls(value: object) -> list[str]:
    """Every http(s) URL in a JSON value."""
    text = json.dumps(value)
    return sorted(set(re.findall(r"https?://[^\s\"'<>]+", text)))


def _every_link_answers(
    clone: Path, env: dict[str, str], port: str, key: str, answers: list[object]
) -> None:
    """Every URL the tracker handed out after the publication (status answer, notices,
    webhook payloads, export, evidence bundle) names the port it serves on and answers 200."""
    notices = httpx.get(
        f"http://127.0.0.1:{port}/v1/users/alice/notices",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()
    done = subprocess.run(
        [".venv/bin/policy-tracker", "export", "--format", "jsonl"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in done.stdout.splitlines()]
    bundle = json.loads((clone / "alice.json").read_text())  # the README's evidence bundle
    urls = _urls([*answers, notices, exported, bundle])
    local = [u for u in urls if u.startswith(("http://127.0.0.1", "http://localhost"))]
    assert all(u.startswith(f"http://127.0.0.1:{port}/") for u in local), local
    assert any("/privacy/changes/1-2/" in u for u in local), local
    assert any("/privacy/v2/" in u for u in local) and any("/privacy/v1/" in u for u in local)
    for url in local:
        if "/hooks/" in url:  # the example app's own address
            continue
        assert httpx.get(url, timeout=10).status_code == 200, url


_VARYING = [  # what may differ between the README and a run: times, ids, keys, hashes, ports
    (re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?"), "<time>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"erased:[0-9a-f]+"), "erased:<id>"),
    (re.compile(r"(?:ptk|whsec)_\S+"), "<key>"),
    (re.compile(r"\b[0-9a-f]{8,}\b"), "<hex>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"revision \d+"), "revision <id>"),
]


def _normal(line: str) -> str:
    for pattern, placeholder in _VARYING:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def _shown_commands(marker: str) -> list[tuple[str, list[str]]]:
    """A README block's ``$`` commands (continuation lines joined) and the output shown."""
    found: list[tuple[str, list[str]]] = []
    for line in _block(marker).splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found and found[-1][0].endswith("\\"):
            found[-1] = (found[-1][0][:-1] + " " + line.strip(), found[-1][1])
        elif found:
            found[-1][1].append(line)
    return found


LONG_RUNNING = ("policy-tracker serve", "policy-tracker dispatch")
"""Commands that run until stopped: started in the background, handed to the caller."""


def _run_block(
    marker: str,
    clone: Path,
    env: dict[str, str],
    port: str,
    replace: dict[str, str] | None = None,
) -> dict[str, subprocess.Popen[str]]:
    """Run a README block's commands in order and compare what each prints with what the
    README shows (``…`` stands for anything; times, ids, keys, hashes and ports may differ).
    ``export`` lines change the environment of the commands after them; a key or secret
    shown as ``ptk_…``/``whsec_…`` in a command is the one printed before; ``replace``
    swaps text of the commands (an address the test serves). Long-running commands
    (``LONG_RUNNING``, serve on ``port``) are started and returned, by their first words."""
    started: dict[str, subprocess.Popen[str]] = {}
    printed_keys: dict[str, str] = {}
    for command, shown in _shown_commands(marker):
        command = command.replace("8000", port)
        for old, new in (replace or {}).items():
            command = command.replace(old, new)
        for prefix, value in printed_keys.items():
            command = re.sub(rf"{prefix}_[0-9a-z_]*…", value, command)
        long_running = next((p for p in LONG_RUNNING if p in command), None)
        if long_running and "--once" not in command:
            assert not shown, f"README.md {marker}: `{command}` runs until stopped"
            if long_running.endswith("serve") and "--port" not in command:
                command = command.split("  #")[0] + f" --port {port}"
            started[long_running] = subprocess.Popen(
                ["bash", "-c", "exec " + command.split("  #")[0]],
                cwd=clone,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            continue
        if command.startswith("export "):
            done = subprocess.run(
                ["bash", "-c", f"{command.split('  #')[0]} && env -0"],
                cwd=clone,
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, f"{command}\n{done.stderr}"
            env.clear()
            for item in done.stdout.split("\0"):
                name, sep, value = item.partition("=")
                if sep:
                    env[name] = value
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True
        )
        failing = bool(shown) and shown[0].startswith("FAILED")
        assert (done.returncode != 0) == failing, f"{command}\n{done.stdout}\n{done.stderr}"
        printed = [line for line in done.stdout.splitlines() if line.strip()]
        wanted = [re.escape(_normal(line)).replace("…", ".*?") for line in shown]
        got = [_normal(line) for line in printed]
        assert len(got) == len(wanted) and all(
            re.fullmatch(w, g) for w, g in zip(wanted, got, strict=True)
        ), (
            f"README.md {marker}: `{command}` printed\n{done.stdout}\nbut the README shows\n"
            + "\n".join(shown)
        )
        for prefix in ("ptk", "whsec"):
            found = re.search(rf"\b{prefix}_\S+", done.stdout)
            if found:
                printed_keys[prefix] = found.group(0)
    if "whsec" in printed_keys:
        env["WEBHOOK_SECRET_SHOWN"] = printed_keys["whsec"]
    return started


def _run_production_postgresql(clone: Path, env: dict[str, str], pg_url: str) -> None:
    """README "In production": the commands against a real PostgreSQL (a fresh schema in
    the test database): the schema is migrated, and ``serve`` with four workers syncs the
    repository's versions into it, answers, logs JSON lines, and stops on SIGTERM."""
    port = str(free_port())
    url = re.search(r"DATABASE_URL=(\S+)", _block("production-postgresql"))
    assert url, "the production block sets DATABASE_URL"
    started = _run_block("production-postgresql", clone, env, port, {url.group(1): f"'{pg_url}'"})
    serve = started["policy-tracker serve"]
    try:
        wait_for_health(
            f"http://127.0.0.1:{port}",
            lambda: None if serve.poll() is None else "\n".join(serve.communicate()),
            timeout=180,
        )
        engine = create_engine(pg_url, poolclass=NullPool)
        with engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT count(*) FROM versions").scalar_one()
        engine.dispose()
        assert versions >= 1  # serve synced the repository into PostgreSQL
    finally:
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=60)
        print(err)  # shown when the test fails
    assert serve.returncode == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["message"] for line in lines), err  # --log-format json


@contextmanager
def _receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A webhook receiver on 127.0.0.1: its URL and the (headers, body) it was sent."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


WALKTHROUGH_TYPES = {"acceptance.recorded", "policy.version_published", "notice.created"}


def _wait_for_deliveries(
    received: list[tuple[dict[str, str], bytes]], dispatcher: subprocess.Popen[str]
) -> None:
    """Until the README's long-running dispatcher has delivered every kind of event."""
    deadline = time.monotonic() + 120
    while not WALKTHROUGH_TYPES.issubset(json.loads(body)["type"] for _, body in received):
        assert dispatcher.poll() is None, dispatcher.communicate()
        assert time.monotonic() < deadline, [json.loads(b)["type"] for _, b in received]
        time.sleep(0.2)


def _verify_deliveries(received: list[tuple[dict[str, str], bytes]], secret: str) -> None:
    """Each delivery to the loopback receiver is signed with the secret ``webhooks add``
    printed (Standard Webhooks)."""
    from standardwebhooks import Webhook

    for headers, body in received:
        Webhook(secret).verify(body, headers)


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            assert process.poll() is None, "the example app exited"
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within 30 s")

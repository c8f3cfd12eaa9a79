"""docs/hosted.md's example runs as written, on SQLite and PostgreSQL: step 1's command makes
the key, and step 2's request, sent over real HTTP with that key, answers what the page shows
(a link on the public URL, its expiry time) and the link opens the app's page."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
from click.testing import CliRunner

from tests.servers import serve
from tests.service.helpers import payload, policy, version
from tracker.cli import cli
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store

DOC = (Path(__file__).resolve().parents[2] / "docs" / "hosted.md").read_text(encoding="utf-8")
PUBLIC = "https://tracker.example.com"


def _block(lang: str) -> str:
    found = re.search(rf"```{lang}\n(.*?)\n```", DOC, re.S)
    assert found, f"docs/hosted.md has no {lang} block"
    return found.group(1)


def test_the_documented_link_request_answers_as_shown(
    db_url: str, settings: Settings, store: Store, keys: dict[str, str]
) -> None:
    command = shlex.split(_block("bash").replace("\\\n", " "))
    assert command[:3] == ["policy-tracker", "keys", "create"], command
    made = CliRunner().invoke(cli, [*command[1:], "--database-url", db_url])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[0]

    head, body = _block("http").split("\n\n", 1)
    start, *lines = head.splitlines()
    method, path = start.split()
    headers = dict(line.split(": ", 1) for line in lines)
    headers["Authorization"] = headers["Authorization"].replace("ptk_…", key)
    shown = json.loads(_block("json"))

    app = create_app(replace(settings, public_url=PUBLIC), store=store)
    with serve(app) as base:
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        published = httpx.post(
            f"{base}/v1/admin/versions",
            json=payload(policy("privacy", version(1, "major"))),
            headers=admin,
        )
        assert published.status_code == 201, published.text
        answer = httpx.request(method, f"{base}{path}", headers=headers, content=body)
        assert answer.status_code == 201, answer.text
        got = answer.json()
        assert got.keys() == shown.keys()
        # "Zm9v…" and "c2ln…" stand for the link id and its signature
        url = re.sub(r"[A-Za-z0-9_-]*…", "[A-Za-z0-9_-]+", re.escape(shown["url"]))
        assert re.fullmatch(url, got["url"]), (shown["url"], got["url"])
        assert datetime.fromisoformat(got["expires_at"]).utcoffset() is not None
        page = httpx.get(got["url"].replace(PUBLIC, base))
        assert page.status_code == 200 and "Example Shop" in page.text

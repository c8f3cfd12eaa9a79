"""The project's own site: `mkdocs build --strict` passes, and the docs cover the plugin."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tracker.publish import versions
from tracker.publish.config import PolicyTrackerConfig

ROOT = Path(__file__).resolve().parents[2]


def test_strict_build_of_this_repository(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("POLICY_TRACKER_AS_OF", None)
    env.pop("POLICY_TRACKER_DRAFTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr
    page = (tmp_path / "site" / "privacy" / "index.html").read_text()
    assert "Last updated" in page and "Privacy Policy" in page
    document = json.loads((tmp_path / "site" / "versions.json").read_text())
    assert [p["slug"] for p in document["policies"]] == ["privacy"]


def test_every_plugin_option_is_documented() -> None:
    docs = (ROOT / "docs" / "site.md").read_text()
    options = [name for name, _ in PolicyTrackerConfig._schema]
    assert options
    for name in options:
        assert re.search(rf"`{name}`", docs), f"plugin option {name} is not in docs/site.md"
    for variable in ("POLICY_TRACKER_AS_OF", "POLICY_TRACKER_DRAFTS"):
        assert variable in docs


def test_every_versions_json_field_is_documented() -> None:
    docs = (ROOT / "docs" / "versions-json.md").read_text()
    schema = versions.schema()
    names = set(schema["properties"])
    for definition in schema["$defs"].values():
        names |= set(definition.get("properties", {}))
        names |= set(definition.get("items", {}).get("properties", {}))
    names |= set(schema["$defs"]["policy"]["properties"]["redlines"]["items"]["properties"])
    for name in names - {"$schema"}:
        assert f"`{name}`" in docs, f"versions.json field {name} is not in docs/versions-json.md"


def test_the_developer_documentation_is_apart_from_the_policies(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("POLICY_TRACKER_AS_OF", None)
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        env=env,
        check=True,
    )
    policy_page = (tmp_path / "site" / "privacy" / "index.html").read_text()
    nav = policy_page.split('<nav class="md-nav md-nav--primary"', 1)[1].split("</nav>", 1)[0]
    assert "Privacy Policy" in nav
    for title in ("HTTP API reference", "Evidence and audits", "versions.json", "webhooks"):
        assert title not in nav, title
    home = (tmp_path / "site" / "index.html").read_text()
    assert 'href="developers/"' in home
    developers = (tmp_path / "site" / "developers" / "index.html").read_text()
    for page in ("api", "audit", "hosted", "site", "versions-json", "webhooks"):
        assert f'href="../{page}/"' in developers, page

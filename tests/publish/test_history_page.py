"""A policy deleted and added again shows the gap in its history page; `log --json` names
every version by the policy's slug of today (and the file it was)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import build_site, write_config
from tracker.cli import cli
from tracker.history import read_catalog
from tracker.redline import suggest


def test_gap_in_history_and_slugs_in_log(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add", {"policy/cookies.md": policy_source("Cookies", "We use cookies.")})
    repo.commit("Remove", {"policy/cookies.md": None})  # 2024-01-03
    repo.commit("Back", {"policy/cookies.md": policy_source("Cookies", "We use few cookies.")})
    repo.rename("policy/cookies.md", "policy/cookie-policy.md", "Rename")
    policy = read_catalog(repo.path, classify=suggest).get("cookie-policy")
    [gap] = policy.gaps
    assert gap.after == 1 and gap.restored is not None and gap.withdrawn < gap.restored
    config = write_config(tmp_path / "config", repo.path, as_of="2030-01-01")
    build_site(config, tmp_path / "site")
    history = (tmp_path / "site" / "cookie-policy" / "history" / "index.html").read_text()
    assert "Withdrawn on" in history and "published again on" in history
    assert history.index("Version 2") < history.index("Withdrawn on") < history.index("Version 1")

    result = CliRunner().invoke(cli, ["--repo", str(repo.path), "log", "cookie-policy", "--json"])
    data = json.loads(result.stdout)
    assert {v["policy"] for v in data["versions"]} == {data["policy"]} == {"cookie-policy"}
    assert [v["path"] for v in data["versions"]] == ["policy/cookies.md", "policy/cookies.md"]

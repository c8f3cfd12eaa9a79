"""The timezone option: the calendar dates readers see are the publisher's; instants stay UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort, PluginError

from tests.gitrepo import GitRepo, policy_source
from tests.publish.conftest import build_site, write_config

# 03:00 UTC on 2 January is 19:00 on 1 January in Los Angeles.
LATE = datetime(2024, 1, 2, 3, 0, tzinfo=UTC)


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "Publish", {"policy/privacy.md": policy_source("Privacy", "We keep logs.")}, date=LATE
    )
    return repo


def test_dates_are_the_publishers_and_instants_stay_utc(repo: GitRepo, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "la", repo.path, as_of="2024-02-01", timezone="America/Los_Angeles"
    )
    build_site(config, tmp_path / "la-site")
    page = (tmp_path / "la-site" / "privacy" / "v1" / "index.html").read_text()
    assert "1 January 2024" in page and "2 January 2024" not in page
    document = json.loads((tmp_path / "la-site" / "versions.json").read_text())
    [version] = document["policies"][0]["versions"]
    assert version["published"] == "2024-01-02T03:00:00Z"
    feed = (tmp_path / "la-site" / "feed.xml").read_text()
    assert "Effective 1 January 2024" in feed and "2024-01-02T03:00:00Z" in feed

    utc = write_config(tmp_path / "utc", repo.path, as_of="2024-02-01")
    build_site(utc, tmp_path / "utc-site")
    assert "2 January 2024" in (tmp_path / "utc-site" / "privacy" / "v1" / "index.html").read_text()


def test_an_unknown_zone_is_one_line_and_nothing_is_written(
    repo: GitRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path / "bad", repo.path, timezone="Mars/Olympus_Mons")
    with pytest.raises((PluginError, Abort)):
        build_site(config, tmp_path / "bad-site")
    [message] = [r.getMessage() for r in caplog.records if "Mars" in r.getMessage()]
    assert "\n" not in message and "unknown time zone 'Mars/Olympus_Mons'" in message
    assert "IANA" in message
    assert not (tmp_path / "bad-site").exists()

"""The tracker's days are the publisher's (setting ``timezone``, ``POLICY_TRACKER_TIMEZONE``,
the variable the site's plugin reads too): the day a version was published, an effective
date worked out from it and "today" are days in that zone; instants stay UTC."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from tests.api import Api
from tests.gitrepo import GitRepo, policy_source
from tests.service.helpers import Clock, payload, policy, version
from tracker.cli import cli
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store

# 03:00 UTC on 2 January is 19:00 on 1 January in Los Angeles.
LATE = datetime(2024, 1, 2, 3, 0, tzinfo=UTC)
LA = "America/Los_Angeles"


def _log(repo: Path, zone: str | None, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    if zone is None:
        monkeypatch.delenv("POLICY_TRACKER_TIMEZONE", raising=False)
    else:
        monkeypatch.setenv("POLICY_TRACKER_TIMEZONE", zone)
    result = CliRunner().invoke(cli, ["--repo", str(repo), "log", "--json"])
    return result.exit_code, result.stdout + result.stderr


def test_effective_dates_are_days_in_the_publishers_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "repo")
    source: dict[str, str | bytes | None] = {"policy/privacy.md": policy_source("Privacy", "x")}
    repo.commit("Publish", source, date=LATE)
    code, out = _log(repo.path, LA, monkeypatch)
    assert code == 0, out
    [version_] = json.loads(out)[0]["versions"]
    assert version_["effective"] == "2024-01-01"
    assert datetime.fromisoformat(version_["published"]) == LATE  # the instant is unchanged
    assert datetime.fromisoformat(version_["published"]).utcoffset() == UTC.utcoffset(None)
    code, out = _log(repo.path, None, monkeypatch)
    assert json.loads(out)[0]["versions"][0]["effective"] == "2024-01-02"  # default UTC


def test_a_declared_date_is_checked_against_the_local_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        "Publish\n\nPolicy-Change: major\nPolicy-Effective: 2024-01-01",
        {"policy/privacy.md": policy_source("Privacy", "We keep logs.")},
        date=LATE,
    )
    code, out = _log(repo.path, LA, monkeypatch)
    assert code == 0, out  # 1 January is the day it was published, in Los Angeles
    assert json.loads(out)[0]["versions"][0]["effective"] == "2024-01-01"
    code, out = _log(repo.path, "UTC", monkeypatch)
    assert code == 1 and "before the publication date 2024-01-02" in out
    assert len(out.strip().splitlines()) == 1


def test_an_unknown_zone_is_one_line_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Publish", {"policy/privacy.md": policy_source("Privacy", "We keep logs.")})
    database = tmp_path / "tracker.sqlite3"
    monkeypatch.setenv("POLICY_TRACKER_TIMEZONE", "Mars/Olympus_Mons")
    result = CliRunner().invoke(
        cli, ["--repo", str(repo.path), "sync", "--database-url", f"sqlite:///{database}"]
    )
    out = result.stdout + result.stderr
    assert result.exit_code == 1
    assert out.strip().splitlines() == [
        "error: POLICY_TRACKER_TIMEZONE: unknown time zone 'Mars/Olympus_Mons'; use an IANA "
        "name such as Europe/Paris or America/Los_Angeles (default UTC)"
    ]
    assert not database.exists()


def test_the_service_decides_what_is_in_force_by_the_local_day(
    settings: Settings, store: Store, keys: dict[str, str]
) -> None:
    """At 03:00 UTC on 2 January it is still 1 January in Los Angeles: a version effective
    on 2 January is in force for a UTC tracker, not yet for one in Los Angeles."""
    first = version(
        1, "major", effective=date(2024, 1, 2), published=datetime(2023, 12, 1, tzinfo=UTC)
    )
    body = payload(policy("privacy", first))
    clock = Clock(LATE)
    in_force = {}
    for zone in ("UTC", LA):
        app = create_app(replace(settings, timezone=zone), store=store, clock=clock)
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(client, keys)
            assert api.post("/v1/admin/versions", json=body).status_code in (200, 201)
            answer = api.get("/v1/policies/privacy/versions/1")
            assert answer.status_code == 200, answer.text
            in_force[zone] = answer.json()["in_force"]
    assert in_force == {"UTC": True, LA: False}

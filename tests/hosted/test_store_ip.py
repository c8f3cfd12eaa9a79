"""``POLICY_TRACKER_STORE_IP=false``: neither the hosted page nor the API stores an IP address
or a user agent, and the evidence bundle says so. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.hosted.conftest import Hosted
from tests.service.helpers import T0
from tracker import audit
from tracker.audit import bundle
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.models import EventRow


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    base = Settings.from_env({"POLICY_TRACKER_STORE_IP": "false"})
    assert base.store_ip is False
    return replace(base, repository=tmp_path, database_url=db_url, site_dir=tmp_path / "none")


def _stored(store: Store) -> list[tuple[str | None, str | None]]:
    with store.read() as session:
        return [(r.ip, r.user_agent) for r in session.scalars(select(EventRow))]


def test_nothing_of_the_address_is_kept(hosted: Hosted, settings: Settings) -> None:
    auth = {"Authorization": f"Bearer {hosted.key}"}
    body = {"user_id": "ann", "policy": "terms", "version": 1, "ip": "192.0.2.7"}
    sent = hosted.client.post(
        "/v1/acceptances", json={**body, "user_agent": "App/2.0"}, headers=auth
    )
    assert sent.status_code == 201, sent.text
    assert (sent.json()["event"]["ip"], sent.json()["event"]["user_agent"]) == (None, None)
    # A bad address is still refused, and nothing is recorded.
    bad = hosted.client.post(
        "/v1/acceptances", json={**body, "user_id": "bo", "ip": "not-an-ip"}, headers=auth
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "ip")
    path = hosted.path("ann")
    _, fields = hosted.open(path)
    done = hosted.submit(
        path,
        fields,
        choices={"privacy": "accept"},
        headers={"User-Agent": "TestBrowser/1.0", "X-Forwarded-For": "198.51.100.1"},
    )
    assert done.status_code == 303, done.text
    assert _stored(hosted.store) == [(None, None), (None, None)]
    made = audit.evidence(hosted.store, settings, "ann", T0)
    assert made["stores_ip_addresses"] is False
    report = bundle.verify(made)
    assert report.ok, report.problems
    page = bundle.render_html(made, report)
    assert "set not to store IP addresses or\nuser agents" in page
    assert "POLICY_TRACKER_STORE_IP=false" in page

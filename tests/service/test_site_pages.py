"""Every link the tracker hands out resolves: pages the built site lacks are rendered from the
stored versions, and the links name the host and port the tracker serves on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.api import Api
from tests.service.helpers import T0, payload, policy, version
from tracker.service.serve import served
from tracker.settings import Settings
from tracker.store import Store, siteurl


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    site = tmp_path / "site"
    (site / "privacy" / "v1").mkdir(parents=True)
    (site / "privacy" / "v1" / "index.html").write_text("<p>built page of version 1</p>")
    return Settings(repository=tmp_path, database_url=db_url, site_dir=site)


def test_pages_missing_from_the_built_site_are_rendered(api: Api) -> None:
    body = payload(
        policy(
            "privacy",
            version(1, "major", body="We collect your email address."),
            version(2, "major", body="We collect your email address and location."),
            version(3, "minor", body="We collect your email address and your location."),
            title="Privacy Policy",
        )
    )
    assert api.post("/v1/admin/versions", json=body).status_code == 201
    built = api.get("/privacy/v1/", key=None)
    assert built.status_code == 200 and "built page of version 1" in built.text
    v2 = api.get("/privacy/v2/", key=None)
    assert v2.status_code == 200 and "Privacy Policy, version 2" in v2.text
    assert "location" in v2.text
    redline = api.get("/privacy/changes/1-3/", key=None)
    assert redline.status_code == 200
    assert "<ins>" in redline.text and "changes from version 1 to version 3" in redline.text
    for missing in ("/privacy/v9/", "/privacy/changes/3-1/", "/nope/v1/", "/privacy/x/"):
        assert api.get(missing, key=None).status_code == 404, missing


def test_an_overtaken_version_page_says_so(api: Api) -> None:
    today = T0.date()
    body = payload(
        policy(
            "terms",
            version(1, "major", published=T0, effective=today),
            version(2, "major", published=T0, effective=today + timedelta(days=30)),
            version(3, "major", published=T0, effective=today + timedelta(days=1)),
        )
    )
    assert api.post("/v1/admin/versions", json=body).status_code == 201
    page = api.get("/terms/v2/", key=None).text
    assert "Never took effect: replaced by version 3 before its effective date" in page


def test_links_follow_the_port_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICY_TRACKER_SITE_URL", raising=False)
    base = Settings()
    assert served(base, "127.0.0.1", 8000).site_url == "http://127.0.0.1:8000/"
    assert served(base, "127.0.0.1", 8101).site_url == "http://127.0.0.1:8101/"
    assert served(base, "0.0.0.0", 8101).site_url == "http://127.0.0.1:8101/"
    assert served(base, "::", 8101).site_url == "http://[::1]:8101/"
    public = replace(base, public_url="https://tracker.example.com")
    assert served(public, "0.0.0.0", 8101).site_url == "https://tracker.example.com/"
    explicit = replace(base, site_url="https://policies.example.com/")
    assert served(explicit, "127.0.0.1", 8101).site_url == "https://policies.example.com/"
    monkeypatch.setenv("POLICY_TRACKER_SITE_URL", "http://127.0.0.1:8000/")
    assert served(base, "127.0.0.1", 8101).site_url == "http://127.0.0.1:8000/"


def test_other_processes_take_the_served_url(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLICY_TRACKER_SITE_URL", raising=False)
    other = replace(settings, site_url=Settings.site_url)
    with store.read() as session:
        assert siteurl.resolve(other, session).site_url == Settings.site_url
    store.write(lambda s: siteurl.record(s, "http://127.0.0.1:8101/", T0))
    store.write(lambda s: siteurl.record(s, "http://127.0.0.1:8102/", T0))
    with store.read() as session:
        assert siteurl.resolve(other, session).site_url == "http://127.0.0.1:8102/"
        configured = replace(other, site_url="https://policies.example.com/")
        assert siteurl.resolve(configured, session).site_url == "https://policies.example.com/"

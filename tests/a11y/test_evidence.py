"""The evidence page (`policy-tracker evidence USER`, the HTML beside the bundle) passes
axe-core's WCAG 2.0/2.1 A and AA rules at both viewports in both schemes and reflows at 320 px.

Fails (never skips) in CI when axe-core or chromium is missing: `.ci/run` installs both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from tests.a11y.axe import audit
from tests.api import TestClient
from tests.audit.helpers import SEED
from tests.service.helpers import payload, policy, version
from tracker import migrations
from tracker.audit.checkpoints import checkpoint
from tracker.cli.audit import COMMANDS
from tracker.cli.common import TrackerGroup
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key


@pytest.fixture(scope="module")
def evidence_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice accepted privacy v1 (with IP and user agent), then v2; a checkpoint anchors it."""
    folder = tmp_path_factory.mktemp("a11y-evidence")
    url = f"sqlite:///{folder / 'tracker.sqlite3'}"
    settings = Settings(
        repository=folder,
        database_url=url,
        site_dir=folder / "no-site",
        site_url="https://policies.example/",
        audit_signing_key=SEED,
    )
    store = Store.open(settings)
    migrations.upgrade(store.engine)
    key, _ = store.write(lambda s: create_key(s, "admin", frozenset({"read", "write", "admin"})))
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings, store=store)) as client:
        body = payload(policy("privacy", version(1, "major"), version(2, "major")))
        assert client.post("/v1/admin/versions", json=body, headers=headers).status_code == 201
        for number, extra in ((1, {"ip": "192.0.2.7", "user_agent": "Mozilla/5.0 (X11)"}), (2, {})):
            event = {"user_id": "alice", "policy": "privacy", "version": number, **extra}
            r = client.post("/v1/acceptances", json=event, headers=headers)
            assert r.status_code == 201, r.text
    checkpoint(store, settings, datetime.now(UTC))
    store.dispose()
    group = TrackerGroup("policy-tracker")
    for command in COMMANDS:
        group.add_command(command)
    out = folder / "alice.json"
    env = {"DATABASE_URL": url, "POLICY_TRACKER_AUDIT_SIGNING_KEY": SEED}
    result = CliRunner().invoke(group, ["evidence", "alice", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out.with_suffix(".html")


def test_evidence_page_passes_axe(browser: Browser, evidence_page: Path) -> None:
    def open_page(page: Page) -> None:
        page.goto(evidence_page.as_uri())
        expect(page.get_by_role("heading", level=1)).to_contain_text("Evidence for user")

    found = audit(browser, "evidence page", open_page)
    if found.failing or found.too_wide:
        pytest.fail(found.report(reported=False), pytrace=False)

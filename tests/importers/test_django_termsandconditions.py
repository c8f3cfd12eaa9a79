"""``policy-tracker import django-termsandconditions`` against a database the app built with
its own models, on SQLite and PostgreSQL (the app's database and the tracker's alike): for
every user the tracker's ``needs_acceptance`` is what the app's
``get_active_terms_not_agreed_to`` says; the chain verifies; importing twice changes
nothing; an interrupted import carries on."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.api import TestClient
from tests.importers.helpers import build_peer, peer_database
from tracker import audit
from tracker.cli import cli
from tracker.importers import run as importer
from tracker.importers.run import import_termsandconditions
from tracker.service import create_app
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.models import EventRow


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.database_url.startswith("sqlite") else "postgresql"


def _needs(store: Store, settings: Settings, key: str, users: list[str]) -> dict[str, list[str]]:
    """What the tracker says each user must accept, over its API (the real clock)."""
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings, store=store)) as client:
        out = {}
        for user in users:
            answer = client.get(f"/v1/users/{user}/status", headers=headers)
            assert answer.status_code == 200, answer.text
            policies = answer.json()["policies"]
            out[user] = sorted(p["policy"] for p in policies if p["needs_acceptance"])
    return out


def _events(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as session:
        rows = session.execute(
            select(
                EventRow.user_id,
                EventRow.version_id,
                EventRow.created_at,
                EventRow.ip,
                EventRow.method,
            ).order_by(EventRow.id)
        )
        return [tuple(r) for r in rows]


def _import(settings: Settings, source: str, into: Path) -> tuple[int, str]:
    args = ["import", "django-termsandconditions", "--from", source, "--into", str(into)]
    result = CliRunner().invoke(cli, [*args, "--database-url", settings.database_url])
    return result.exit_code, result.output


def test_the_tracker_agrees_with_the_app_for_every_user(
    settings: Settings, store: Store, keys: dict[str, str], tmp_path: Path
) -> None:
    into = tmp_path / "policies"
    with peer_database(_kind(settings), tmp_path) as source:
        peer = build_peer(source)
        code, output = _import(settings, source, into)
        assert code == 0, output
        assert "6 version(s) of 3 policies" in output
        assert "every one declared major" in output
        assert "the next policy-tracker purge" not in output  # none older than 400 days
        assert f"{peer['acceptances']} imported, 0 already there" in output
        users = sorted(peer["not_agreed"], key=int)
        assert _needs(store, settings, keys["read"], users) == peer["not_agreed"]
        # Every kind of user is there: up to date, needing one policy, needing all.
        assert {len(v) for v in peer["not_agreed"].values()} >= {0, 1, 3}
        report = audit.verify(store, settings)
        assert report.ok, report
        events = _events(store)
        assert len(events) == peer["acceptances"]
        assert {e[4] for e in events} == {"import"}
        assert any(e[3] and ":" in e[3] for e in events) and any(e[3] is None for e in events)
        head = subprocess.run(
            ["git", "log", "--format=%ad %s", "--date=short"],
            cwd=into,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert len(head) == 6 and head[-1].endswith("Terms of Use 1.00")
        # Again: nothing changes.
        code, output = _import(settings, source, into)
        assert code == 0, output
        assert f"0 imported, {peer['acceptances']} already there" in output
        assert "published 0 new version(s)" in output
        assert _events(store) == events
        assert audit.verify(store, settings).ok


def test_an_interrupted_import_carries_on(
    settings: Settings, store: Store, keys: dict[str, str], tmp_path: Path
) -> None:
    into = tmp_path / "policies"
    with peer_database(_kind(settings), tmp_path) as source:
        peer = build_peer(source)
        now = datetime.now(UTC)

        def stop(done: int, total: int) -> None:
            raise KeyboardInterrupt

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(importer, "BATCH", 25)
            with pytest.raises(KeyboardInterrupt):
                import_termsandconditions(settings, source, into, now, progress=stop)
            first = _events(store)
            assert len(first) == 25
            shorter = replace(settings, retention_ip_days=300)
            result = import_termsandconditions(shorter, source, into, now)
        assert (result.imported, result.already) == (peer["acceptances"] - 25, 25)
        # The 12 acceptances of site-terms 1.00 with an address, 390 days old.
        assert result.ip_past_retention == 12
        assert len(_events(store)) == peer["acceptances"]
        assert _events(store)[:25] == first
        users = sorted(peer["not_agreed"], key=int)
        assert _needs(store, settings, keys["read"], users) == peer["not_agreed"]
        assert audit.verify(store, settings).ok

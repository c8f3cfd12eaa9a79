"""``policy-tracker backup`` while the service writes, ``restore`` into an empty database, and
``verify --checkpoint`` on the restored copy: every acceptance acknowledged before the backup
began is in it, and the chain verifies against a checkpoint kept outside the database."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.service.helpers import payload, policy, version
from tests.service.test_served import served
from tracker import migrations
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.keys import create_key

COMMAND = str(Path(sys.executable).parent / "policy-tracker")
SEED = base64.b64encode(bytes(range(32))).decode()


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TRACKER_")}
    env.pop("DATABASE_URL", None)
    env.update(POLICY_TRACKER_DATABASE_URL=database_url, POLICY_TRACKER_AUDIT_SIGNING_KEY=SEED)
    return subprocess.run(
        [COMMAND, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        repository=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'live.sqlite3'}",
        site_dir=tmp_path / "no-site",
        audit_signing_key=SEED,
    )


def test_a_backup_under_load_restores_every_acknowledged_write(
    settings: Settings, tmp_path: Path
) -> None:
    store = Store.open(settings)
    migrations.upgrade(store.engine)
    admin, _ = store.write(lambda s: create_key(s, "admin", frozenset({"read", "write", "admin"})))
    store.dispose()
    acked: list[tuple[str, float]] = []
    errors: list[str] = []
    stop = threading.Event()

    with served(settings, tmp_path / "serve.log", audit_signing_key=SEED) as base:
        headers = {"Authorization": f"Bearer {admin}"}
        r = httpx.post(
            f"{base}/v1/admin/versions",
            json=payload(policy("privacy", version(1, "major"))),
            headers=headers,
        )
        assert r.status_code == 201, r.text

        def writer(n: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                i = 0
                while not stop.is_set():
                    user = f"w{n}-{i}"
                    body = {"user_id": user, "policy": "privacy", "version": 1}
                    r = client.post("/v1/acceptances", json=body)
                    if r.status_code == 201:
                        acked.append((user, time.monotonic()))
                    else:
                        errors.append(f"{r.status_code} {r.text}")
                    i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            while len(acked) < 100:
                time.sleep(0.05)
            cp = _cli(
                "checkpoint", "-o", str(tmp_path / "cp.json"), database_url=settings.database_url
            )
            assert cp.returncode == 0, cp.stderr
            while len(acked) < 200:
                time.sleep(0.05)
            began = time.monotonic()
            done = _cli(
                "backup", str(tmp_path / "copy.sqlite3"), database_url=settings.database_url
            )
            before = {user for user, at in acked if at < began}
            during = len(acked)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert errors == []
    assert done.returncode == 0, done.stderr
    assert "quick_check ok" in done.stdout
    assert len(acked) > during  # the service kept writing while the backup ran

    restored = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restore = _cli("restore", str(tmp_path / "copy.sqlite3"), database_url=restored)
    assert restore.returncode == 0, restore.stderr
    v = _cli("verify", "--checkpoint", str(tmp_path / "cp.json"), database_url=restored)
    assert v.returncode == 0, v.stdout + v.stderr
    assert "anchored by checkpoint" in v.stdout, v.stdout
    with sqlite3.connect(tmp_path / "restored.sqlite3") as conn:
        users = {row[0] for row in conn.execute("SELECT user_id FROM events")}
    conn.close()
    assert before and before <= users, len(before - users)


def test_backup_and_restore_refuse_what_they_cannot_do(settings: Settings, tmp_path: Path) -> None:
    store = Store.open(settings)
    migrations.upgrade(store.engine)
    store.dispose()
    url = settings.database_url
    copy = tmp_path / "copy.sqlite3"
    assert _cli("backup", str(copy), database_url=url).returncode == 0
    again = _cli("backup", str(copy), database_url=url)
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f"error: {copy} exists; give a new file name (a backup never overwrites)"
    )
    into_live = _cli("restore", str(copy), database_url=url)
    assert into_live.returncode == 1 and "already holds tables" in into_live.stderr
    assert len(into_live.stderr.strip().splitlines()) == 1
    pg = _cli(
        "backup", str(tmp_path / "pg.sqlite3"), database_url="postgresql+psycopg://x@127.0.0.1/none"
    )
    assert pg.returncode == 1 and "pg_dump" in pg.stderr
    assert not (tmp_path / "pg.sqlite3").exists()

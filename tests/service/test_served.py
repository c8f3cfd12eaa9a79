"""``policy-tracker serve`` as operators run it (a real uvicorn process on SQLite and
PostgreSQL): whose ``X-Forwarded-For`` is believed, and what the access log keeps."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.hosted.conftest import Hosted, catalog, make_app_key
from tests.servers import free_port, wait_for_health
from tracker.settings import Settings
from tracker.store import Store

COMMAND = str(Path(sys.executable).parent / "policy-tracker")


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TRACKER_")}
    env.pop("DATABASE_URL", None)
    env.update(
        POLICY_TRACKER_DATABASE_URL=settings.database_url,
        POLICY_TRACKER_REPOSITORY=str(settings.repository),
        POLICY_TRACKER_SITE_DIR=str(settings.site_dir),
        **{f"POLICY_TRACKER_{k.upper()}": v for k, v in extra.items()},
    )
    return env


@contextmanager
def served(settings: Settings, log: Path, **extra: str) -> Iterator[str]:
    port = free_port()
    with log.open("w") as err:
        proc = subprocess.Popen(
            [COMMAND, "serve", "--no-sync", "--port", str(port)],
            env=_env(settings, **extra),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for_health(base, lambda: log.read_text() if proc.poll() is not None else None)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _accept_through_the_page(base: str, store: Store, admin: str, user: str) -> str:
    """Publish, make a link, answer the page with ``X-Forwarded-For: 6.6.6.6``; the token."""
    with httpx.Client(base_url=base) as client:
        h = Hosted(client, store, make_app_key(store))  # type: ignore[arg-type]
        h.publish(catalog(), admin)
        url = str(h.link(user, policies=["terms"]).json()["url"])
        path = url.removeprefix(base)
        _, fields = h.open(path)
        done = h.submit(path, fields, headers={"X-Forwarded-For": "6.6.6.6"})
        assert done.status_code == 303, done.text
        r = client.get(f"/v1/users/{user}/events", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200, r.text
        return path.rsplit("/", 1)[1]


def _recorded_ip(base: str, admin: str, user: str) -> str:
    r = httpx.get(f"{base}/v1/users/{user}/events", headers={"Authorization": f"Bearer {admin}"})
    (event,) = r.json()["events"]
    return str(event["ip"])


@pytest.mark.parametrize(("proxies", "recorded"), [("", "127.0.0.1"), ("127.0.0.1", "6.6.6.6")])
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    settings: Settings,
    store: Store,
    keys: dict[str, str],
    tmp_path: Path,
    proxies: str,
    recorded: str,
) -> None:
    with served(settings, tmp_path / "serve.log", trusted_proxies=proxies) as base:
        _accept_through_the_page(base, store, keys["admin"], "ida")
        assert _recorded_ip(base, keys["admin"], "ida") == recorded


def test_the_access_log_keeps_neither_link_tokens_nor_user_ids(
    settings: Settings, store: Store, keys: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    user = "user-4711-secret"
    with served(settings, log) as base:
        token = _accept_through_the_page(base, store, keys["admin"], user)
        httpx.get(
            f"{base}/v1/admin/export?user_id={user}",
            headers={"Authorization": f"Bearer {keys['admin']}"},
        )
    written = log.read_text()
    assert "/accept/{token}" in written and "/v1/users/{user_id}/events" in written
    assert token not in written and token.split(".")[0] not in written
    assert user not in written


def test_the_access_log_can_keep_paths_when_told(
    settings: Settings, store: Store, keys: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with served(settings, log, access_log_redact="false") as base:
        token = _accept_through_the_page(base, store, keys["admin"], "jon")
    assert token in log.read_text()


def test_a_bad_trusted_proxy_stops_serve_at_start_up(settings: Settings, tmp_path: Path) -> None:
    done = subprocess.run(
        [COMMAND, "serve", "--no-sync", "--port", str(free_port())],
        env=_env(settings, trusted_proxies="10.0.0.0/8, proxy.internal"),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "error: POLICY_TRACKER_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or CIDR range"
    ], done.stderr

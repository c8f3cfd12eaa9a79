"""A write names a policy or version another process published a moment ago.

On PostgreSQL a write uses the process's cached catalog and checks its revision in the
statement that locks the consent: a catalog that moved, or a policy or version the cached
one lacks, is read again and the write runs once more. On SQLite the revision is read in
every write. Either way the write sees what was published before it, whatever the cache
time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from starlette.testclient import TestClient

from tests.api import Api
from tests.service.helpers import Clock, payload, policy, version
from tracker.service.app import create_app
from tracker.settings import Settings
from tracker.store import Store


def test_writes_see_what_another_process_published(
    settings: Settings, store: Store, clock: Clock, keys: dict[str, str]
) -> None:
    cached = replace(settings, catalog_cache_seconds=600.0, auth_cache_seconds=600.0)
    first = payload(policy("privacy", version(1, "major")))
    elsewhere = Store.open(cached)  # another process's
    with (
        TestClient(create_app(cached, store=store, clock=clock)) as one,
        TestClient(create_app(cached, store=elsewhere, clock=clock)) as other,
    ):
        api, publisher = Api(one, keys), Api(other, keys)
        assert publisher.post("/v1/admin/versions", json=first).status_code == 201
        r = api.post("/v1/acceptances", json={"user_id": "u1", "policy": "privacy", "version": 1})
        assert r.status_code == 201, r.text  # the catalog is cached from here on

        later = version(2, "major", effective=date(2025, 1, 1))
        more = payload(policy("privacy", version(1, "major"), later), policy("terms", version(1)))
        assert publisher.post("/v1/admin/versions", json=more).status_code == 201

        # A version and a policy the cached catalog lacks.
        r = api.post("/v1/acceptances", json={"user_id": "u2", "policy": "privacy", "version": 2})
        assert r.status_code == 201, r.text
        assert r.json()["event"]["version"] == 2 and r.json()["status"]["state"] == "accepted"
        r = api.post("/v1/acceptances", json={"user_id": "u2", "policy": "terms", "version": 1})
        assert r.status_code == 201, r.text
        # A decline without a version declines the one now in force.
        r = api.post("/v1/declines", json={"user_id": "u3", "policy": "privacy"})
        assert r.status_code == 201, r.text
        assert r.json()["event"]["version"] == 2
        # u1 accepted version 1 before version 2 came: still told of it, as before.
        r = api.post("/v1/acceptances", json={"user_id": "u1", "policy": "privacy", "version": 1})
        assert r.status_code == 200 and r.json()["created"] is False

        unknown = {"user_id": "u4", "policy": "privacy", "version": 3}
        r = api.post("/v1/acceptances", json=unknown)
        assert r.status_code == 404, r.text
        events = api.get("/v1/users/u4/events")
        assert events.status_code == 404
    elsewhere.dispose()

"""``verify`` derives the acceptance a user stands by the way the store keeps it
(``tracker.store.standing``), on SQLite and PostgreSQL, from writes over real HTTP: an
older version accepted after a newer one leaves the newer one standing and ``verify`` ok,
while a hand edit of ``consents`` is still caught."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from tests.audit.helpers import publish
from tracker import audit
from tracker.cli import cli
from tracker.settings import Settings
from tracker.store import Store

VERIFY = "/v1/admin/audit/verify"


@pytest.fixture
def http(api: Any, server: str, keys: dict[str, str]) -> Iterator[httpx.Client]:
    """A client of the app served over HTTP, with the admin key; policy versions 1-3."""
    publish(api, 1, 2, 3)
    headers = {"Authorization": f"Bearer {keys['admin']}"}
    with httpx.Client(base_url=server, headers=headers) as client:
        yield client


def send(client: httpx.Client, kind: str, user: str, number: int | None) -> None:
    body: dict[str, Any] = {"user_id": user, "policy": "privacy"}
    if number is not None:
        body["version"] = number
    r = client.post(f"/v1/{kind}", json=body)
    assert r.status_code in (200, 201), r.text


def accepted_version(client: httpx.Client, user: str) -> int | None:
    status = client.get(f"/v1/users/{user}/status").json()
    (policy,) = [p for p in status["policies"] if p["policy"] == "privacy"]
    number: int | None = policy["accepted_version"]
    return number


def cli_verify(settings: Settings) -> dict[str, Any]:
    done = CliRunner().invoke(
        cli,
        ["verify", "--json", "--database-url", settings.database_url],
        env={"POLICY_TRACKER_AUDIT_SIGNING_KEY": settings.audit_signing_key},
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    assert done.exit_code == (0 if answer["ok"] else 1)
    return answer


def test_an_older_acceptance_after_a_newer_one_verifies(
    http: httpx.Client, store: Store, settings: Settings
) -> None:
    send(http, "acceptances", "alice", 2)
    send(http, "acceptances", "alice", 1)
    assert accepted_version(http, "alice") == 2
    assert http.get(VERIFY).json()["ok"] is True
    assert cli_verify(settings)["ok"] is True
    # Lowering the consent to what the latest acceptance says is a hand edit.
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE consents SET accepted_version_id = "
                "(SELECT version_id FROM events WHERE id = consents.last_event_id) "
                "WHERE user_id = 'alice'"
            )
        )
    answer = http.get(VERIFY).json()
    assert answer["ok"] is False and "altered by hand" in answer["message"]
    assert cli_verify(settings) == answer


def test_a_decline_then_an_older_acceptance_lowers_the_state(
    http: httpx.Client, store: Store, settings: Settings
) -> None:
    send(http, "acceptances", "bob", 3)
    send(http, "declines", "bob", 3)
    send(http, "acceptances", "bob", 1)
    assert accepted_version(http, "bob") == 1
    assert audit.verify(store, settings).ok


SEQUENCE_KINDS = ["acceptances"] * 4 + ["declines", "withdrawals"]


def test_random_sequences_verify(http: httpx.Client, settings: Settings, store: Store) -> None:
    """Seeded random acceptances (any version), declines and withdrawals by a few users:
    whatever order they come in, the consents the store keeps are the ones verify derives."""
    rng = random.Random(20261206)
    for step in range(90):
        user = f"user{rng.randrange(6)}"
        kind = rng.choice(SEQUENCE_KINDS)
        number = rng.randint(1, 3) if kind != "withdrawals" else None
        if kind == "withdrawals" and accepted_version(http, user) is None:
            kind, number = "acceptances", rng.randint(1, 3)
        send(http, kind, user, number)
        if step % 30 == 29:
            answer = http.get(VERIFY).json()
            assert answer["ok"] is True, (step, answer)
    assert audit.verify(store, settings).ok

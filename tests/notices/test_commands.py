"""``policy-tracker webhooks add|list|remove|rotate`` through the root command, as a user runs
it (errors translated once), on a SQLite file, with deliveries to a real receiver."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.notices.receiver import Received, Receiver
from tracker.cli import cli
from tracker.notices.dispatch import Dispatcher
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.notices import DeliveryRow, EndpointRow, enqueue

ALLOW = {"POLICY_TRACKER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hooks.sqlite3'}"


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(database_url=db, webhook_allowed_hosts="127.0.0.1")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings)
    yield opened
    opened.dispose()


def webhooks(db: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["webhooks", *args, "--database-url", db], env=ALLOW if env is None else env
    )


def ok(db: str, *args: str) -> Result:
    result = webhooks(db, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.output
    return result


def add(db: str, url: str, *args: str) -> str:
    """The secret ``add`` printed: the one line on stdout."""
    (secret,) = ok(db, "add", url, *args).stdout.splitlines()
    return secret


def send(store: Store, settings: Settings, receiver: Receiver, n: int) -> list[Received]:
    """Queue an acceptance.recorded message, dispatch it; what the receiver got."""
    before = len(receiver.received)
    store.write(lambda s: enqueue(s, "acceptance.recorded", {"n": n}, datetime.now(UTC)))
    worker = Dispatcher(store, settings, name="cli-test")
    try:
        worker.run(once=True)
    finally:
        worker.close()
    return receiver.received[before:]


def headers(r: Received, signature: str | None = None) -> dict[str, str]:
    return {
        "webhook-id": r.webhook_id,
        "webhook-timestamp": r.timestamp,
        "webhook-signature": r.signature if signature is None else signature,
    }


def verifies(secret: str, r: Received, signature: str | None = None) -> bool:
    try:
        Webhook(secret).verify(r.body, headers(r, signature))
    except WebhookVerificationError:
        return False
    return True


def endpoints(store: Store) -> list[tuple[Any, ...]]:
    """Every column of every endpoint: what a failed command must leave alone."""
    table = EndpointRow.__table__
    with store.read() as session:
        return [tuple(row) for row in session.execute(select(table).order_by(table.c.id))]


def deliveries(store: Store) -> list[tuple[int, str]]:
    with store.read() as session:
        rows = session.execute(
            select(DeliveryRow.endpoint_id, DeliveryRow.state).order_by(DeliveryRow.id)
        )
        return [(e, s) for e, s in rows]


def test_add_prints_the_secret_once_and_list_never_shows_it(db: str, receiver: Receiver) -> None:
    url = receiver.url("/hooks")
    result = ok(db, "add", url, "--events", "acceptance.recorded", "--description", "billing")
    (secret,) = result.stdout.splitlines()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret not in result.stderr
    assert "added webhook 1" in result.stderr and "shown only this once" in result.stderr
    listed = ok(db, "list")
    assert listed.stdout == f"1\t{url}\tacceptance.recorded\tenabled\n"
    assert secret not in listed.output
    # A second endpoint gets its own secret, every event type by default.
    other = add(db, receiver.url("/other"))
    assert other.startswith("whsec_") and other != secret
    rows = ok(db, "list").stdout.splitlines()
    assert rows[1].split("\t")[:3] == [
        "2",
        receiver.url("/other"),
        "acceptance.recorded,notice.created,policy.translation_published,policy.version_published",
    ]
    assert secret not in "".join(rows) and other not in "".join(rows)


def test_rotate_signs_with_both_secrets_during_the_overlap(
    db: str, store: Store, settings: Settings, receiver: Receiver
) -> None:
    old = add(db, receiver.url(), "--events", "acceptance.recorded")
    (before,) = send(store, settings, receiver, 1)
    assert verifies(old, before) and len(before.signature.split(" ")) == 1

    rotated = ok(db, "rotate", "1", "--overlap-hours", "48")
    (new,) = rotated.stdout.splitlines()
    assert new.startswith("whsec_") and new != old
    assert "old secret signs too until" in rotated.stderr and new not in rotated.stderr
    listed = ok(db, "list")
    assert "old secret signs until" in listed.stdout
    assert old not in listed.output and new not in listed.output

    (during,) = send(store, settings, receiver, 2)
    signatures = during.signature.split(" ")
    assert len(signatures) == 2
    # Each secret alone verifies the message, and each verifies exactly one signature.
    assert verifies(old, during) and verifies(new, during)
    assert [[verifies(s, during, sig) for s in (old, new)] for sig in signatures] in (
        [[False, True], [True, False]],
        [[True, False], [False, True]],
    )

    # Rotating with no overlap (a leaked secret): only the newest signs from now on.
    again = ok(db, "rotate", "1", "--overlap-hours", "0")
    (newest,) = again.stdout.splitlines()
    assert newest not in (old, new) and "no longer signs" in again.stderr
    assert ok(db, "list").stdout.endswith("\tenabled\n")
    (after,) = send(store, settings, receiver, 3)
    assert len(after.signature.split(" ")) == 1
    assert verifies(newest, after)
    assert not verifies(new, after) and not verifies(old, after)


def test_remove_stops_sending_and_cancels_pending_deliveries(
    db: str, store: Store, settings: Settings, receiver: Receiver
) -> None:
    add(db, receiver.url("/one"), "--events", "acceptance.recorded")
    add(db, receiver.url("/two"), "--events", "acceptance.recorded")
    store.write(lambda s: enqueue(s, "acceptance.recorded", {"n": 0}, datetime.now(UTC)))
    result = ok(db, "remove", "1")
    assert result.stdout == f"removed webhook 1 ({receiver.url('/one')})\n"
    assert [line.split("\t")[0] for line in ok(db, "list").stdout.splitlines()] == ["2"]
    assert deliveries(store) == [(1, "cancelled"), (2, "pending")]
    received = send(store, settings, receiver, 1)
    assert sorted(r.path for r in received) == ["/two", "/two"]
    assert deliveries(store) == [(1, "cancelled"), (2, "delivered"), (2, "delivered")]
    ok(db, "remove", "2")
    assert ok(db, "list").stdout.startswith("no webhooks")


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["add", "http://hooks.example.com/x"], ALLOW, "plain http is refused for hooks.example"),
        (["add", "http://127.0.0.1:9/x"], {}, "plain http is refused for 127.0.0.1"),
        (["add", "https://10.1.2.3/x"], ALLOW, "10.1.2.3 is a private or loopback address"),
        (["add", "https://[fd00::1]/x"], ALLOW, "private or loopback address"),
        (["add", "ftp://hooks.example.com/"], ALLOW, "must be an absolute https:// URL"),
        (
            ["add", "https://hooks.example.com/", "--events", "acceptance.recorded,nope"],
            ALLOW,
            "unknown event type nope",
        ),
        (["add", "https://hooks.example.com/", "--events", ","], ALLOW, "name at least one"),
        (["remove", "99"], ALLOW, "no webhook endpoint 99"),
        (["remove", "one"], ALLOW, "no webhook endpoint one"),
        (["rotate", "99"], ALLOW, "no webhook endpoint 99"),
        (["rotate", "1", "--overlap-hours", "-1"], ALLOW, "overlap_hours: must be from 0"),
        (["rotate", "1", "--overlap-hours", "nan"], ALLOW, "overlap_hours: must be from 0"),
        (["rotate", "1", "--overlap-hours", "1e12"], ALLOW, "overlap_hours: must be from 0"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    db: str, store: Store, receiver: Receiver, args: list[str], env: dict[str, str], says: str
) -> None:
    add(db, receiver.url(), "--events", "acceptance.recorded")
    store.write(lambda s: enqueue(s, "acceptance.recorded", {"n": 0}, datetime.now(UTC)))
    listed, rows, queued = ok(db, "list").stdout, endpoints(store), deliveries(store)
    result = webhooks(db, *args, env=env)
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit)  # nothing escaped the root command
    assert result.stdout == "" and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and says in line, line
    assert (ok(db, "list").stdout, endpoints(store), deliveries(store)) == (listed, rows, queued)


def test_commands_on_a_fresh_database(db: str) -> None:
    assert ok(db, "list").stdout == "no webhooks; add one with: policy-tracker webhooks add URL\n"
    for command in ("remove", "rotate"):
        result = webhooks(db, command, "1")
        assert result.exit_code == 1
        assert result.stderr == "error: no webhook endpoint 1\n", result.stderr

"""Signing in to the console in tests, reading its forms and figures, making test data."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import event, select

from tests.api import Api, TestClient
from tests.notices.helpers import accept, publish
from tests.notices.receiver import Receiver
from tests.service.helpers import Clock, version
from tracker.console import new_link
from tracker.notices.dispatch import Dispatcher
from tracker.settings import Settings
from tracker.store import Store
from tracker.store.audit_models import AuditRecordRow

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_FIGURE = re.compile(r'data-figure="([a-z_]+)">([0-9,]+)')


def link_path(store: Store, settings: Settings, clock: Clock, role: str, name: str) -> str:
    return urlsplit(new_link(store, settings, role, name, clock())).path


def sign_in(client: TestClient, store: Store, settings: Settings, clock: Clock, role: str) -> None:
    path = link_path(store, settings, clock, role, "Dana")
    assert client.get(path).status_code == 200
    r = client.post(path, follow_redirects=False)
    assert r.status_code == 303, r.text


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no form token on the page"
    return found.group(1)


def figures(html: str) -> dict[str, int]:
    """The first value of each ``data-figure`` on the page."""
    out: dict[str, int] = {}
    for name, value in _FIGURE.findall(html):
        out.setdefault(name, int(value.replace(",", "")))
    return out


def audit_entries(store: Store) -> list[dict[str, Any]]:
    with store.read() as session:
        rows = session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.type == "audit")
            .order_by(AuditRecordRow.seq)
        )
        return [dict(r.data) for r in rows]


def populate(api: Api) -> None:
    """privacy: version 1 (major), 2 (minor), 3 (major); users accepting each."""
    publish(api, version(1, "major"), version(2, "minor"), version(3, "major"))
    for user in ("u-anna", "u-ben", "u-cleo", "u-dan", "x_%odd"):
        accept(api, user, 1)
    for user in ("u-anna", "u-ben"):
        accept(api, user, 3)
    accept(api, "u-cleo", 2)
    body = {"user_id": "u-dan", "policy": "privacy", "version": 3}
    assert api.post("/v1/declines", json=body, key="write").status_code in (200, 201)


def dead_delivery(
    api: Api, store: Store, settings: Settings, clock: Clock, receiver: Receiver
) -> int:
    """A delivery to a receiver that answers 500 until it gives up; its id."""
    r = api.post(
        "/v1/admin/webhooks",
        json={"url": receiver.url("/status/500"), "events": ["policy.version_published"]},
    )
    assert r.status_code == 201, r.text
    publish(api, version(4, "minor"))
    worker = Dispatcher(store, settings, clock=clock, rng=random.Random(1), name="test")
    try:
        for _ in range(worker.max_attempts):
            worker.run(once=True)
            clock.now += timedelta(seconds=10)  # past the 5 s retry, within a session
    finally:
        worker.close()
    dead = api.get("/v1/admin/deliveries?state=dead").json()["deliveries"]
    assert len(dead) == 1
    return int(dead[0]["id"])


def status(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.text


Sent = tuple[str, Any]


@contextmanager
def sent_statements(store: Store) -> Iterator[list[Sent]]:
    """The statements the code sends inside the block, each as the driver gets it: the SQL
    compiled for this dialect and its parameters."""
    sent: list[Sent] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def explain(store: Store, sent: Sent, *, no_seq_scan: bool = False) -> str:
    """The plan of a statement sent; ``no_seq_scan``: PostgreSQL's with sequential scans
    off, to ask whether an index serves it where the table is too small to need one."""
    statement, parameters = sent
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.begin() as conn:
        if no_seq_scan and store.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)

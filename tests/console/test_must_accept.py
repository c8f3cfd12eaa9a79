"""Who must still accept, over real HTTP: the CSV walks every user once, in order, in chunks
that each seek from the last user written; the pages' next and previous links are cursors
(``after`` / ``before``); the statement the seek runs reads the primary key's index."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text

from tests.api import Api
from tests.console.helpers import explain, figures, link_path, sent_statements
from tests.notices.helpers import publish
from tests.service.helpers import Clock, version
from tracker.console.pages import CSV_CHUNK
from tracker.settings import Settings
from tracker.store import Store, dashboard, load_snapshot
from tracker.store.models import ConsentRow
from tracker.store.notices.tables import NoticeRow

V3 = "/console/policies/privacy/versions/3"
USERS = 7000  # more than a CSV chunk of those who must accept
ODD = ["a b", "Z", "%_x", "x\\y", "ü-1", "🙂", "O'Brien <x>"]
_ROW = re.compile(r"<tr><td>([^<]*)</td>")
_REL = re.compile(r'<a href="([^"]+)" rel="(prev|next)">')
_PAGE = re.compile(r"page ([0-9,]+) of ([0-9,]+)")


@pytest.fixture
def viewer(server: str, store: Store, settings: Settings, clock: Clock) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as client:
        path = link_path(store, settings, clock, "viewer", "Dana")
        assert client.post(path, follow_redirects=False).status_code == 303
        yield client


def _fill(api: Api, store: Store, clock: Clock) -> list[str]:
    """privacy 1 (major), 2 (minor), 3 (major); USERS users plus a few odd ids: one in four
    accepted version 3, the rest accepted 1 or 2, declined 3 or withdrew. Every third
    has a notice of version 3. The ids of those who must accept, in the database's order."""
    publish(api, version(1, "major"), version(2, "minor"), version(3, "major"))
    with store.read() as session:
        policy = load_snapshot(session).policy("privacy")
    ids = {n: policy.version(n).id for n in (1, 2, 3)}
    now = clock()
    consents: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    for i, user in enumerate([f"user-{i:05d}" for i in range(USERS)] + ODD):
        kind, accepted = [
            ("accepted", ids[3]),
            ("accepted", ids[1]),
            ("declined", ids[2]),
            ("withdrawn", ids[3]),
        ][i % 4]
        consents.append(
            {
                "user_id": user,
                "policy_id": policy.id,
                "last_kind": kind,
                "last_version_id": ids[3] if kind == "declined" else accepted,
                "accepted_version_id": accepted,
                "accepted_at": now - timedelta(days=1) if accepted else None,
            }
        )
        if i % 3 == 0:
            notices.append(
                {
                    "user_id": user,
                    "policy_id": policy.id,
                    "from_version_id": ids[1],
                    "to_version_id": ids[3],
                    "significance": "major",
                    "acceptance_required": True,
                    "created_at": now,
                    "acknowledged_at": now if i % 2 else None,
                }
            )
    with store.engine.begin() as conn:
        conn.execute(insert(ConsentRow), consents)
        conn.execute(insert(NoticeRow), notices)
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE consents")
            conn.exec_driver_sql("ANALYZE notices")
        else:
            conn.exec_driver_sql("ANALYZE")
        ordered = conn.scalars(select(ConsentRow.user_id).order_by(ConsentRow.user_id)).all()
    must = {c["user_id"] for i, c in enumerate(consents) if i % 4}
    return [user for user in ordered if user in must]


def test_the_csv_holds_every_user_once_in_order(
    api: Api, store: Store, clock: Clock, viewer: httpx.Client
) -> None:
    expected = _fill(api, store, clock)
    assert len(expected) > CSV_CHUNK
    page = viewer.get(V3)
    assert figures(page.text)["must_total"] == len(expected)
    r = viewer.get(V3 + "/must-accept.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["user_id"] for row in rows] == expected
    by_user = {row["user_id"]: row for row in rows}
    assert by_user["user-00001"] == {
        "user_id": "user-00001",
        "last_decision": "accepted",
        "accepted_version": "1",
        "notice": "none",
    }
    assert by_user["user-00003"]["notice"] == "acknowledged"  # a notice, acknowledged
    assert by_user["user-00006"]["last_decision"] == "declined"
    assert by_user["user-00006"]["notice"] == "pending"
    assert (by_user["user-00007"]["last_decision"], by_user["user-00007"]["notice"]) == (
        "withdrawn",
        "none",
    )
    # A search walks its own users the same way.
    r = viewer.get(V3 + "/must-accept.csv", params={"q": "user-06"})
    assert [row["user_id"] for row in csv.DictReader(io.StringIO(r.text))] == [
        u for u in expected if u.startswith("user-06")
    ]


def _page(client: httpx.Client, url: str) -> tuple[list[str], dict[str, str], int]:
    r = client.get(url)
    assert r.status_code == 200, r.text[-600:]
    links = {rel: html.unescape(href) for href, rel in _REL.findall(r.text)}
    shown = _PAGE.search(r.text)
    assert shown
    return _ROW.findall(r.text), links, int(shown.group(1).replace(",", ""))


def test_next_and_previous_are_cursors_and_walk_every_page(
    api: Api, store: Store, clock: Clock, viewer: httpx.Client
) -> None:
    expected = [u for u in _fill(api, store, clock) if u.startswith("user-01")]
    pages = -(-len(expected) // dashboard.PAGE_SIZE)
    assert pages > 10
    seen, forward, url = [], [], V3 + "?q=user-01"
    while True:
        users, links, number = _page(viewer, url)
        seen += users
        forward.append(users)
        assert number == len(forward)
        if "next" not in links:
            break
        assert "after=" in links["next"] and "q=user-01" in links["next"]
        url = links["next"]
    assert [html.unescape(u) for u in seen] == expected and len(forward) == pages
    back = [users]
    while "prev" in links:
        assert "before=" in links["prev"]
        users, links, number = _page(viewer, links["prev"])
        back.append(users)
        assert number == pages - len(back) + 1
    assert back[::-1] == forward
    # A number typed in still opens its page (OFFSET), and its links are cursors.
    users, links, number = _page(viewer, V3 + f"?q=user-01&page={pages - 1}")
    assert users == forward[-2] and number == pages - 1
    assert links["next"].endswith("&after=" + forward[-2][-1] + "&q=user-01")
    # A cursor past the end: no users, a page that says so, nothing else.
    r = viewer.get(V3, params={"q": "user-01", "after": "user-02", "page": "3"})
    assert r.status_code == 200 and "No users on this page" in r.text
    assert not _ROW.findall(r.text) and not _REL.findall(r.text)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"after": "x" * 256}, "after: a user id of at most 255 characters"),
        ({"after": "x" * 10_000}, "after: a user id"),
        ({"before": "9" * 5000}, "before: a user id"),
        ({"after": "a\x00b"}, "after: a user id"),
        ({"after": "\x07"}, "after: a user id"),
        ({"before": "\u202eabc"}, "before: a user id"),
        ({"after": "a", "before": "b"}, "after, before: give one of them"),
        ({"after": "a", "page": "0"}, "page: must be a whole number"),
        ({"page": "1" + "0" * 5000}, "page: must be a whole number"),
    ],
)
def test_a_bad_cursor_gets_a_clear_page_and_changes_nothing(
    api: Api, store: Store, clock: Clock, viewer: httpx.Client, params: dict[str, str], says: str
) -> None:
    publish(api, version(1, "major"), version(2, "minor"), version(3, "major"))
    with store.read() as session:
        before = session.scalar(text("SELECT count(*) FROM audit_records"))
    r = viewer.get(V3, params=params)
    assert r.status_code == 422 and says in r.text, r.text[-600:]
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text
    with store.read() as session:
        assert session.scalar(text("SELECT count(*) FROM audit_records")) == before


@pytest.mark.parametrize(
    "cursor", ["", "🙂", "'; DROP TABLE consents; --", "%", "\\", " ", "é" * 255]
)
def test_any_cursor_a_user_id_may_be_is_answered(
    api: Api, store: Store, clock: Clock, viewer: httpx.Client, cursor: str
) -> None:
    _fill(api, store, clock)
    for side in ("after", "before"):
        r = viewer.get(V3, params={side: cursor, "page": "2"})
        assert r.status_code == 200, (side, r.text[-600:])


def test_the_seek_reads_the_primary_key_index(api: Api, store: Store, clock: Clock) -> None:
    expected = _fill(api, store, clock)
    middle = expected[len(expected) // 2]
    with store.read() as session, sent_statements(store) as sent:
        policy = load_snapshot(session).policy("privacy")
        version = policy.version(3)
        after = dashboard.must_accept(session, policy, version, after=middle)
        before = dashboard.must_accept(session, policy, version, before=middle)
    at = expected.index(middle)
    assert [p.user_id for p in before] == expected[at - dashboard.PAGE_SIZE : at]
    assert [p.user_id for p in after] == expected[at + 1 : at + 1 + dashboard.PAGE_SIZE]
    seeks = [s for s in sent if "FROM consents" in s[0]]
    told = [s for s in sent if "FROM notices" in s[0]]
    assert len(seeks) == 2 and len(told) == 2, sent
    pk = "sqlite_autoindex_consents_1" if store.dialect == "sqlite" else "pk_consents"
    for statement in seeks:
        shown = explain(store, statement)
        assert pk in shown and "Seq Scan" not in shown and "SCAN consents" not in shown, shown
    # A page's notices: one range of an index. With 2,300 notices PostgreSQL may rightly
    # read them all, so ask only that an index serves the statement.
    indexes = (
        ["sqlite_autoindex_notices_1"]
        if store.dialect == "sqlite"
        else ["uq_notices_to_version_id_user_id", "ix_notices_user_id_policy_id"]
    )
    for statement in told:
        shown = explain(store, statement, no_seq_scan=True)
        assert any(i in shown for i in indexes) and "Seq Scan" not in shown, shown

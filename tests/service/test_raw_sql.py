"""Every raw driver statement (``tracker/store/sql_sqlite.py``, ``sql_postgresql.py``) beside
its SQLAlchemy Core twin, on the same rows, on SQLite and PostgreSQL: the rows must agree.

Reads are compared after typing the driver's values with the columns' own SQLAlchemy types;
writes run in a transaction that is rolled back, then their Core twin in another, and the
rows they leave are compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    create_engine,
    insert,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.pool import NullPool

from tests.api import Api
from tests.service.helpers import T0, payload, policy, version
from tracker.chain.canonical import rfc3339
from tracker.store import Store, sql_postgresql, sql_sqlite
from tracker.store.audit_models import AuditHeadRow
from tracker.store.chain import EVENT_COLUMNS
from tracker.store.models import ApiKeyRow, ConsentRow, EventRow, MetaRow, VersionRow
from tracker.store.notices import EndpointRow, NoticeRow
from tracker.store.sealer import MOVE_HEAD, flush

USERS = ["alice", "bob", "café", "team/eve", "dave", "nobody"]
CONSENT_COLUMNS = (
    ConsentRow.user_id,
    ConsentRow.policy_id,
    ConsentRow.last_kind,
    ConsentRow.last_version_id,
    ConsentRow.accepted_version_id,
    ConsentRow.accepted_at,
)
NOTICE_COLUMNS = (
    NoticeRow.id,
    NoticeRow.user_id,
    NoticeRow.policy_id,
    NoticeRow.from_version_id,
    NoticeRow.to_version_id,
    NoticeRow.significance,
    NoticeRow.acceptance_required,
    NoticeRow.created_at,
)
PENDING = (NoticeRow.acknowledged_at.is_(None), NoticeRow.closed_at.is_(None))


@pytest.fixture
def filled(api: Api, store: Store) -> Store:
    """Two policies; users who accepted, declined, were told of a major version, accepted it;
    a webhook endpoint subscribed to acceptances."""
    versions = [version(1, "major"), version(2, "minor")]
    body = payload(policy("privacy", *versions), policy("terms", version(1, "major")))
    assert api.post("/v1/admin/versions", json=body).status_code in (200, 201)
    for user in USERS[:-2]:
        for slug in ("privacy", "terms"):
            answer = {"user_id": user, "policy": slug, "version": 1}
            assert api.post("/v1/acceptances", json=answer, key="write").status_code == 201
    decline = {"user_id": "dave", "policy": "privacy", "version": 1}
    assert api.post("/v1/declines", json=decline, key="write").status_code == 201
    versions.append(version(3, "major", summary="New"))
    body = payload(policy("privacy", *versions), policy("terms", version(1, "major")))
    assert api.post("/v1/admin/versions", json=body).status_code in (200, 201)
    accept = {"user_id": "bob", "policy": "privacy", "version": 3}
    assert api.post("/v1/acceptances", json=accept, key="write").status_code == 201

    def subscribe(session: Any) -> None:
        session.add(
            EndpointRow(
                url="http://127.0.0.1:9/hooks",
                event_types="acceptance.recorded,notice.created",
                secret="whsec_x",
                created_at=T0,
            )
        )

    store.write(subscribe)
    flush(store.engine)  # PostgreSQL seals events just after their commit
    return store


def raw(
    conn: Connection, sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the driver, as the store's fast paths do."""
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor: Any = driver.cursor()
    try:
        cursor.execute(sql, params if isinstance(params, Mapping) else tuple(params))
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        cursor.close()


def typed(conn: Connection, columns: Sequence[Any], rows: list[tuple[Any, ...]]) -> list[Any]:
    """The driver's rows with each value read as its column's SQLAlchemy type reads it."""
    dialect = conn.dialect
    readers: list[Callable[[Any], Any]] = []
    for column in columns:
        if isinstance(column, Column) or hasattr(column, "type"):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            readers.append(process or (lambda v: v))
        else:
            readers.append(lambda v: v)
    return [tuple(read(v) for read, v in zip(readers, row, strict=True)) for row in rows]


def core(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(statement)]


def driver_sql(conn: Connection) -> Any:
    return sql_sqlite if conn.dialect.name == "sqlite" else sql_postgresql


@pytest.mark.parametrize("with_policy", [False, True])
def test_consents(filled: Store, with_policy: bool) -> None:
    with filled.engine.connect() as conn:
        sql = driver_sql(conn).consents(len(USERS), with_policy)
        found = typed(conn, CONSENT_COLUMNS, raw(conn, sql, [*USERS, 1] if with_policy else USERS))
        query = select(*CONSENT_COLUMNS).where(ConsentRow.user_id.in_(USERS))
        if with_policy:
            query = query.where(ConsentRow.policy_id == 1)
        twin = core(conn, query)
    assert len(twin) == (5 if with_policy else 9)  # dave declined one
    assert sorted(found) == sorted(twin)
    assert all(isinstance(row[5], datetime) and row[5].tzinfo for row in twin if row[5])


@pytest.mark.parametrize("with_policy", [False, True])
def test_pending_notices(filled: Store, with_policy: bool) -> None:
    with filled.engine.connect() as conn:
        sql = driver_sql(conn).pending_notices(len(USERS), with_policy)
        found = typed(conn, NOTICE_COLUMNS, raw(conn, sql, [*USERS, 1] if with_policy else USERS))
        query = select(*NOTICE_COLUMNS).where(NoticeRow.user_id.in_(USERS), *PENDING)
        if with_policy:
            query = query.where(NoticeRow.policy_id == 1)
        twin = core(conn, query.order_by(NoticeRow.id))
    assert len(twin) == 3  # alice, café and team/eve were told of v3; bob accepted it
    assert found == twin


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("many", [False, True])
@pytest.mark.parametrize("with_policy", [False, True])
def test_status_read(filled: Store, many: bool, with_policy: bool) -> None:
    users = USERS if many else ["alice"]
    with filled.engine.connect() as conn:
        key = core(conn, select(ApiKeyRow.id).order_by(ApiKeyRow.id).limit(1))[0][0]
        params: dict[str, Any] = {"users": json.dumps(users) if many else users[0], "key": key}
        where_consent: list[ColumnElement[bool]] = [ConsentRow.user_id.in_(users)]
        where_notice: list[ColumnElement[bool]] = [NoticeRow.user_id.in_(users), *PENDING]
        if with_policy:
            params["policy"] = 1
            where_consent.append(ConsentRow.policy_id == 1)
            where_notice.append(NoticeRow.policy_id == 1)
        found = raw(conn, sql_postgresql.STATUS_READ[(many, with_policy)], params)
        twin = [
            (0, uid, pid, kind, last, acc, json.dumps(at.isoformat()) if at else None, None)
            for uid, pid, kind, last, acc, at in core(
                conn, select(*CONSENT_COLUMNS).where(*where_consent)
            )
        ]
        twin += [
            (nid, uid, pid, sig, old, new, at.strftime("%Y-%m-%d %H:%M:%S.%f"), required)
            for nid, uid, pid, old, new, sig, required, at in core(
                conn, select(*NOTICE_COLUMNS).where(*where_notice)
            )
        ]
        revision = select(MetaRow.value).where(MetaRow.name == "catalog_revision")
        twin += [
            (-1, None, None, None, value, None, None, None) for (value,) in core(conn, revision)
        ]
        keys = select(ApiKeyRow.id, ApiKeyRow.revoked_at).where(ApiKeyRow.id == key)
        twin += [(-2, None, i, None, None, None, r, None) for i, r in core(conn, keys)]
    # consents, pending notices (alice, café and team/eve of v3), the revision and the key
    assert len(twin) == {(False, False): 5, (False, True): 4, (True, False): 14}.get(
        (many, with_policy), 10
    )
    assert sorted(found, key=repr) == sorted(twin, key=repr)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("with_policy", [False, True])
@pytest.mark.parametrize("user", ["alice", "bob", "nobody"])
def test_one_user_status(filled: Store, with_policy: bool, user: str) -> None:
    consents: Select[*tuple[Any, ...]] = select(
        literal(0), *CONSENT_COLUMNS, literal_column("NULL")
    ).where(ConsentRow.user_id == user)
    notices = select(*NOTICE_COLUMNS).where(NoticeRow.user_id == user, *PENDING)
    if with_policy:
        consents = consents.where(ConsentRow.policy_id == 1)
        notices = notices.where(NoticeRow.policy_id == 1)
    with filled.engine.connect() as conn:
        params = (user, 1) if with_policy else (user,)
        found = raw(conn, sql_sqlite.ONE_USER_STATUS[with_policy], params)
        compiled = union_all(consents, notices).compile(conn)
        positions = compiled.positiontup or []
        twin = raw(conn, str(compiled), [compiled.params[name] for name in positions])
    assert sorted(found, key=repr) == sorted(twin, key=repr)
    notices_of = {"alice": 1, "bob": 0, "nobody": 0}[user]  # bob accepted the major version
    consents_of = 0 if user == "nobody" else 1 if with_policy else 2
    assert len(found) == notices_of + consents_of


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_read_consent_and_later_versions_and_subscribers(filled: Store) -> None:
    with filled.engine.connect() as conn:
        columns = (
            ConsentRow.last_event_id,
            ConsentRow.last_kind,
            ConsentRow.last_version_id,
            ConsentRow.accepted_version_id,
            ConsentRow.accepted_at,
        )
        for user in USERS:
            found = typed(conn, columns, raw(conn, sql_sqlite.READ_CONSENT, (user, 1)))
            where = (ConsentRow.user_id == user, ConsentRow.policy_id == 1)
            assert found == core(conn, select(*columns).where(*where))
        later = (VersionRow.id, VersionRow.number, VersionRow.significance)
        for number in (0, 1, 2, 3):
            found = raw(conn, sql_sqlite.LATER_VERSIONS, (1, number))
            query = select(*later).where(VersionRow.policy_id == 1, VersionRow.number > number)
            assert found == core(conn, query.order_by(VersionRow.number))
        for event_type, expected in (("acceptance.recorded", 1), ("policy.version_published", 0)):
            like = f"%,{event_type.replace('_', '/_')},%"
            found = raw(conn, sql_sqlite.ANY_SUBSCRIBER, (like,))
            subscribed = (
                EndpointRow.enabled.is_(True),
                EndpointRow.removed_at.is_(None),
                (literal(",") + EndpointRow.event_types + literal(",")).like(like, escape="/"),
            )
            twin = core(conn, select(literal(1)).where(*subscribed).limit(1))
            assert found == twin and len(found) == expected
        head = raw(conn, sql_sqlite.CHAIN_HEAD, ())
        assert head == core(conn, select(AuditHeadRow.seq, AuditHeadRow.hash))


def test_chain_events(filled: Store) -> None:
    with filled.engine.connect() as conn:
        sql = driver_sql(conn).CHAIN_EVENTS
        found = raw(conn, sql, (10**9,))
        sealed = (EventRow.chain_seq.is_not(None), EventRow.chain_seq <= 10**9)
        twin = core(conn, select(*EVENT_COLUMNS).where(*sealed).order_by(EventRow.chain_seq))
    assert len(twin) == 10  # 4 users × 2 policies, a decline, an acceptance of v3
    if conn.dialect.name == "sqlite":
        with filled.engine.connect() as conn:
            assert typed(conn, EVENT_COLUMNS, found) == twin
        return
    # PostgreSQL: the JSON columns as text, the time in the chain's canonical form.
    for got, want in zip(found, twin, strict=True):
        read = list(got)
        read[3] = json.loads(read[3])
        read[14] = json.loads(read[14]) if read[14] is not None else None
        expected = list(want)
        expected[10] = rfc3339(expected[10])
        assert read == expected


def _rows(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    return core(conn, query)


def _compare_writes(
    store: Store,
    write_raw: Callable[[Connection], Any],
    write_core: Callable[[Connection], Any],
    read: Any,
) -> list[tuple[Any, ...]]:
    """Run each write in its own transaction, read ``read``, roll back; both must agree."""
    results = []
    for write in (write_raw, write_core):
        with store.engine.connect() as conn:
            trans = conn.begin()
            try:
                answer = write(conn)
                results.append((answer, _rows(conn, read)))
            finally:
                trans.rollback()
    assert results[0] == results[1]
    return results[0][1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_inserting_an_event_binds_as_the_columns_do(filled: Store) -> None:
    values: dict[str, Any] = {
        "user_id": "zoë",
        "policy_id": 1,
        "version_id": 3,
        "kind": "accepted",
        "method": "api",
        "api_key_id": None,
        "ip": "203.0.113.9",
        "user_agent": "Agent/1.0",
        "locale": "fr",
        "context": {"page": "/signup", "é": [1, 2.5, None]},
        "created_at": T0,
        "commitments": None,
    }
    columns = tuple(values)
    table = EventRow.__table__

    def by_driver(conn: Connection) -> Any:
        bind = sql_sqlite.binders(conn.dialect, table, columns)
        params = [b(values[c]) for b, c in zip(bind, columns, strict=True)]
        return len(raw(conn, sql_sqlite.insert_event(columns), params))

    def by_core(conn: Connection) -> Any:
        return len(core(conn, insert(EventRow).values(values).returning(EventRow.id)))

    read = select(*(EventRow.__table__.c[c] for c in columns)).where(EventRow.user_id == "zoë")
    rows = _compare_writes(filled, by_driver, by_core, read)
    assert rows[0][9] == values["context"] and rows[0][10] == T0
    # The stored text itself, not only what it reads back as.
    text: Select[*tuple[Any, ...]] = select(
        literal_column("created_at"), literal_column("context"), literal_column("commitments")
    )
    _compare_writes(
        filled, by_driver, by_core, text.select_from(table).where(EventRow.user_id == "zoë")
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("new", [True, False])
def test_saving_a_consent_binds_as_the_columns_do(filled: Store, new: bool) -> None:
    user = "zoë" if new else "alice"
    values = {
        "last_event_id": 1,
        "last_kind": "accepted",
        "last_version_id": 3,
        "accepted_version_id": 3,
        "accepted_at": T0,
        "user_id": user,
        "policy_id": 1,
    }
    table = ConsentRow.__table__
    columns = sql_sqlite.SAVE_CONSENT_COLUMNS

    def by_driver(conn: Connection) -> Any:
        bind = sql_sqlite.binders(conn.dialect, table, columns)
        return raw(
            conn,
            sql_sqlite.SAVE_CONSENT[new],
            [b(values[c]) for b, c in zip(bind, columns, strict=True)],
        )

    def by_core(conn: Connection) -> Any:
        if new:
            conn.execute(insert(ConsentRow).values(values))
        else:
            where = and_(ConsentRow.user_id == user, ConsentRow.policy_id == 1)
            conn.execute(update(ConsentRow).where(where).values(values))
        return []

    stored: Select[*tuple[Any, ...]] = select(
        literal_column("accepted_at"), *CONSENT_COLUMNS
    ).select_from(table)
    _compare_writes(filled, by_driver, by_core, stored.where(ConsentRow.user_id == user))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_moving_the_chain_head_and_closing_notices(filled: Store) -> None:
    with filled.engine.connect() as conn:
        (seq, hash_), *_ = raw(conn, sql_sqlite.CHAIN_HEAD, ())
    moved = (seq + 1, "f" * 64)

    def head_by_driver(conn: Connection) -> Any:
        cursor: Any = conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            sql_sqlite.MOVE_CHAIN_HEAD, (*moved, seq, hash_)
        )
        return cursor.rowcount

    def head_by_core(conn: Connection) -> Any:
        return conn.execute(MOVE_HEAD, {"b_seq": moved[0], "b_hash": moved[1]}).rowcount

    head = select(AuditHeadRow.id, AuditHeadRow.seq, AuditHeadRow.hash)
    assert _compare_writes(filled, head_by_driver, head_by_core, head) == [(1, *moved)]

    with filled.engine.connect() as conn:
        answered = [
            r[0] for r in core(conn, select(VersionRow.id).where(VersionRow.policy_id == 1))
        ]
    when = T0.replace(microsecond=123456)

    def close_by_driver(conn: Connection) -> Any:
        bind = sql_sqlite.binders(conn.dialect, NoticeRow.__table__, ["closed_at"])
        params = (bind[0](when), "alice", 1, *answered)
        return raw(conn, sql_sqlite.close_answered(len(answered)), params)

    def close_by_core(conn: Connection) -> Any:
        where = (
            NoticeRow.user_id == "alice",
            NoticeRow.policy_id == 1,
            NoticeRow.closed_at.is_(None),
            NoticeRow.to_version_id.in_(bindparam("b_answered", expanding=True)),
        )
        statement = update(NoticeRow).where(*where).values(closed_at=when, closed_reason="accepted")
        conn.execute(statement, {"b_answered": answered})
        return []

    notices: Select[*tuple[Any, ...]] = select(
        literal_column("closed_at"), *NOTICE_COLUMNS, NoticeRow.closed_reason
    )
    rows = _compare_writes(
        filled, close_by_driver, close_by_core, notices.select_from(NoticeRow.__table__)
    )
    # alice's notice of v2 (she accepted v1 after v2 was out) was superseded by v3's
    assert [r[-1] for r in rows if r[2] == "alice"] == ["superseded", "accepted"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_sealing_a_pass(filled: Store) -> None:
    with filled.engine.connect() as conn:
        ids = [r[0] for r in core(conn, select(EventRow.id).order_by(EventRow.id).limit(2))]
    seqs, prevs, hashes = [900, 901], ["a" * 64, "b" * 64], ["b" * 64, "c" * 64]

    def by_text(conn: Connection) -> Any:
        params = {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes}
        return conn.execute(sql_postgresql.SEAL, {**params, "seq": 901, "hash": "c" * 64}).rowcount

    def by_core(conn: Connection) -> Any:
        for i, q, p, h in zip(ids, seqs, prevs, hashes, strict=True):
            values = {"chain_seq": q, "chain_prev": p, "chain_hash": h}
            conn.execute(update(EventRow).where(EventRow.id == i).values(values))
        return conn.execute(MOVE_HEAD, {"b_seq": 901, "b_hash": "c" * 64}).rowcount

    events = select(EventRow.id, EventRow.chain_seq, EventRow.chain_prev, EventRow.chain_hash)
    rows = _compare_writes(filled, by_text, by_core, events.where(EventRow.id.in_(ids)))
    assert sorted(r[1] for r in rows) == seqs
    head = select(AuditHeadRow.seq, AuditHeadRow.hash)
    _compare_writes(filled, by_text, by_core, head)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_the_servers_accepted_at_is_pythons_isoformat(pg_url: str, zone: str) -> None:
    """``accepted_at`` as ``STATUS_READ`` writes it is ``json.dumps(at.isoformat())`` in
    UTC, with and without microseconds (trailing zeros kept, ``.000000`` dropped), whatever
    the session's time zone."""
    times = [
        T0,
        T0.replace(microsecond=5),
        T0.replace(microsecond=120_000),
        T0.replace(microsecond=999_999),
        datetime(1999, 12, 31, 23, 59, 59, 100, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
    ]
    engine = create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SET TIME ZONE '{zone}'")
        for at in times:
            iso = sql_postgresql._PG_ISO.format("CAST(%(at)s AS timestamptz)")
            (text,) = conn.exec_driver_sql(f"SELECT {iso}", {"at": at}).one()
            assert text == json.dumps(at.isoformat()), (at, text)
    engine.dispose()

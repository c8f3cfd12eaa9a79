"""Verifying stored events fast: raw driver rows, bodies by string formatting, C hashing.

``verify`` over a million events spends its time turning rows into objects and encoding
them, so the events are read with the driver's own cursor (a server-side cursor on
PostgreSQL, read ahead by a thread, with the JSON columns as text and the time formatted by
the server), in large batches, and each row is checked without building a record: its body
is formatted straight into the canonical encoding (``tracker.chain.canonical``), and its
commitments are recomputed with two SHA-256 calls (HMAC with a 16-byte key, RFC 2104).

This path only ever says "this record is fine". Whenever a row does not take the common
shape (an unexpected type, a checkpointed sequence) or anything fails to match, the row is
handed to the general ``Verifier.feed``, which decides and gives the reason. Accepting a row
here means its re-encoded bytes hash to its stored hash exactly as the general path's would.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tracker.chain.canonical import PSEUDONYM_PREFIX, canonical_json, event_body, rfc3339
from tracker.chain.events import event_record
from tracker.chain.records import ChainRecord, Verifier
from tracker.store import sql_postgresql, sql_sqlite

FETCH = 20_000
# PostgreSQL rows arrive with their JSON already parsed and their timestamps as objects:
# smaller batches keep the peak memory of a verify low (about 4 KB a row in flight).
FETCH_POSTGRES = 5_000
_str = json.encoder.encode_basestring  # what JSONEncoder(ensure_ascii=False) uses
_sha256 = hashlib.sha256
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_FIELDS = ("user_id", "ip", "user_agent", "context")
_PREFIX = {name: name.encode() + b"\x00" for name in _FIELDS}


def raw_events(session: Session, last: int) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of raw event rows with ``chain_seq <= last``, in sequence order."""
    dbapi: Any = session.connection().connection.dbapi_connection
    postgres = session.get_bind().dialect.name == "postgresql"
    sql = sql_postgresql.CHAIN_EVENTS if postgres else sql_sqlite.CHAIN_EVENTS
    cursor = dbapi.cursor(name="tracker_audit_scan") if postgres else dbapi.cursor()
    size = FETCH_POSTGRES if postgres else FETCH
    if postgres:
        cursor.itersize = size
    try:
        cursor.execute(sql, (last,))
        if not postgres:
            while batch := cursor.fetchmany(size):
                yield batch
            return
        yield from _read_ahead(cursor, size)
    finally:
        cursor.close()


_DONE: Any = object()


def _read_ahead(cursor: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The cursor's batches, the next one fetched by a thread while this one is checked.

    The driver waits for the server without the GIL, so PostgreSQL's work and the transfer
    overlap the checking instead of adding to it. One batch waits at most (flat memory).
    The thread ends when the caller stops early: it stops fetching, and the cursor is
    closed after it has ended.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                batch = cursor.fetchmany(size)
                ready.put(batch or _DONE)
                if not batch:
                    return
        except BaseException as exc:  # handed to the reader, raised there
            ready.put(exc)

    reader = threading.Thread(target=fetch, name="audit-verify-fetch", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a put() waiting for room
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        reader.join()


def _when(value: Any) -> str:
    if type(value) is str:
        if len(value) == 26 and value[10] == " ":  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", UTC
            return f"{value[:10]}T{value[11:]}Z"
        if len(value) == 27 and value[10] == "T" and value[26] == "Z":  # PostgreSQL's to_char
            return value
        raise TypeError
    if type(value) is datetime:
        return rfc3339(value)
    raise TypeError


def _hmac_hex(salt: str, message: bytes) -> str:
    key = bytes.fromhex(salt).ljust(64, b"\x00")
    inner = _sha256(key.translate(_IPAD) + message).digest()
    return _sha256(key.translate(_OPAD) + inner).hexdigest()


# (value column, salt column, field, HMAC message prefix) of the string fields of a row.
_STRING_FIELDS = tuple((11 + i, 15 + i, name, _PREFIX[name]) for i, name in enumerate(_FIELDS[:3]))


def _personal_ok(row: tuple[Any, ...], commits: dict[str, Any]) -> bool:
    for at, salt_at, name, prefix in _STRING_FIELDS:
        value = row[at]
        if value is None:
            continue
        salt = row[salt_at]
        if salt is None:
            if at == 11 and type(value) is str and value.startswith(PSEUDONYM_PREFIX):
                continue
            return False
        committed = commits[name]
        if type(value) is not str or type(salt) is not str or type(committed) is not str:
            return False
        if _hmac_hex(salt, prefix + _str(value).encode()) != committed:
            return False
    value = row[14]
    if type(value) is str:
        # JSON columns arrive as text (see ``sql_postgresql.CHAIN_EVENTS``); JSON null for none.
        value = None if value == "null" else json.loads(value)
    if value is None:
        return True
    salt = row[18]
    committed = commits["context"]
    if type(salt) is not str or type(committed) is not str:
        return False
    encoded = canonical_json(value, floats=True, check=False)
    return _hmac_hex(salt, _PREFIX["context"] + encoded) == committed


def check_fast(row: tuple[Any, ...], expected: int, prev: str, shas: dict[int, str]) -> bool:
    """Whether the row is record ``expected``, linked to ``prev``, with intact hash and
    commitments (False: let the general path decide)."""
    if row[0] != expected or row[1] != prev:
        return False
    commits = row[3]
    try:
        if type(commits) is str:
            commits = orjson.loads(commits)
        if type(commits) is not dict or commits.keys() != _KEYS:
            return False
        vid = row[6]
        body = event_body(
            expected,
            commits,
            kind=row[4],
            policy_id=row[5],
            version_id=vid,
            version_sha256=shas.get(vid) if vid is not None else None,
            method=row[7],
            api_key_id=row[8],
            locale=row[9],
            recorded_at=_when(row[10]),
            translation_version_id=row[19],
            translation_sha256=row[20],
        )
    except (TypeError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return False
    digest = _sha256(body).digest()
    if _sha256(bytes.fromhex(prev) + digest).hexdigest() != row[2]:
        return False
    try:
        return _personal_ok(row, commits)
    except (TypeError, ValueError):
        return False


_KEYS = {"user_id", "ip", "user_agent", "context"}


def _loads(value: Any) -> Any:
    if type(value) is str:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _datetime(value: Any) -> Any:
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    return value


def to_record(row: tuple[Any, ...], shas: dict[int, str]) -> ChainRecord:
    """The general path's record for a raw row (typed as the ORM would read it)."""
    typed = list(row)
    typed[3] = _loads(row[3])
    typed[14] = _loads(row[14])
    typed[10] = _datetime(row[10])
    if not isinstance(typed[10], datetime):
        record = event_record([*typed[:10], datetime.min.replace(tzinfo=UTC), *typed[11:]], shas)
        record.data["recorded_at"] = str(row[10])  # unreadable: it cannot match its hash
        return record
    return event_record(typed, shas)


def feed_events(
    verifier: Verifier, batch: list[tuple[Any, ...]], shas: dict[int, str]
) -> tuple[bool, int]:
    """Feed raw rows until a bad one; (all good, rows consumed)."""
    special = verifier.checkpoints
    for n, row in enumerate(batch):
        expected = verifier.expected
        if expected not in special and check_fast(row, expected, verifier.prev, shas):
            verifier.prev = row[2]
            verifier.expected = expected + 1
            verifier.records += 1
            continue
        if not verifier.feed(to_record(row, shas)):
            return False, n + 1
    return True, len(batch)

"""Verifying stored events fast: raw driver rows, bodies by string formatting, C hashing.

``verify`` over a million events spends its time turning rows into objects and encoding
them, so the events are read with the driver's own cursor (a server-side cursor on
PostgreSQL), in large batches, and each row is checked without building a record: its body
is formatted straight into the canonical encoding (``tracker.audit.canonical``), and its
commitments are recomputed with two SHA-256 calls (HMAC with a 16-byte key, RFC 2104).

This path only ever says "this record is fine". Whenever a row does not take the common
shape (an unexpected type, a checkpointed sequence) or anything fails to match, the row is
handed to the general ``Verifier.feed``, which decides and gives the reason. Accepting a row
here means its re-encoded bytes hash to its stored hash exactly as the general path's would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.audit.canonical import CHAIN_FORMAT, PSEUDONYM_PREFIX, canonical_json, rfc3339
from tracker.audit.chain import ChainRecord, Verifier

_COLUMNS = (
    "chain_seq, chain_prev, chain_hash, commitments, kind, policy_id, version_id, method, "
    "api_key_id, locale, created_at, user_id, ip, user_agent, context, user_id_salt, ip_salt, "
    "user_agent_salt, context_salt"
)
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
    mark = "%s" if postgres else "?"
    sql = (
        f"SELECT {_COLUMNS} FROM events WHERE chain_seq IS NOT NULL AND chain_seq <= {mark} "
        "ORDER BY chain_seq"
    )
    cursor = dbapi.cursor(name="tracker_audit_scan") if postgres else dbapi.cursor()
    size = FETCH_POSTGRES if postgres else FETCH
    if postgres:
        cursor.itersize = size
    try:
        cursor.execute(sql, (last,))
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return str(_str(value))
    raise TypeError


def _int(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    raise TypeError


def _when(value: Any) -> str:
    if type(value) is str:  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        raise TypeError
    if type(value) is datetime:
        return rfc3339(value)
    raise TypeError


def _hmac_hex(salt: str, message: bytes) -> str:
    key = bytes.fromhex(salt).ljust(64, b"\x00")
    inner = _sha256(key.translate(_IPAD) + message).digest()
    return _sha256(key.translate(_OPAD) + inner).hexdigest()


def _personal_ok(row: tuple[Any, ...], commits: dict[str, Any]) -> bool:
    for i, name in enumerate(_FIELDS):
        value = row[11 + i]
        if name == "context" and type(value) is str:
            # SQLite hands JSON columns over as text; JSON null when there is none.
            value = None if value == "null" else json.loads(value)
        if value is None:
            continue
        salt = row[15 + i]
        committed = commits[name]
        if salt is None:
            if name == "user_id" and type(value) is str and value.startswith(PSEUDONYM_PREFIX):
                continue
            return False
        if type(salt) is not str or type(committed) is not str:
            return False
        if name == "context":
            encoded = canonical_json(value, floats=True, check=False)
        elif type(value) is str:
            encoded = _str(value).encode()
        else:
            return False
        if _hmac_hex(salt, _PREFIX[name] + encoded) != committed:
            return False
    return True


def check_fast(row: tuple[Any, ...], expected: int, prev: str, shas: dict[int, str]) -> bool:
    """Whether the row is record ``expected``, linked to ``prev``, with intact hash and
    commitments (False: let the general path decide)."""
    if row[0] != expected or row[1] != prev:
        return False
    commits = row[3]
    if type(commits) is str:
        commits = json.loads(commits)
    try:
        if type(commits) is not dict or commits.keys() != _KEYS:
            return False
        vid = row[6]
        body = (
            f'{{"chain":{CHAIN_FORMAT},"commitments":{{"context":{_text(commits["context"])},'
            f'"ip":{_text(commits["ip"])},"user_agent":{_text(commits["user_agent"])},'
            f'"user_id":{_text(commits["user_id"])}}},"data":{{"api_key_id":{_int(row[8])},'
            f'"kind":{_text(row[4])},"locale":{_text(row[9])},"method":{_text(row[7])},'
            f'"policy_id":{_int(row[5])},"recorded_at":"{_when(row[10])}",'
            f'"version_id":{_int(vid)},'
            f'"version_sha256":{_text(shas.get(vid) if vid is not None else None)}}},'
            f'"seq":{expected},"type":"event"}}'
        )
    except (TypeError, ValueError):
        return False
    digest = _sha256(body.encode()).digest()
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
    from tracker.audit.ledger import event_record

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

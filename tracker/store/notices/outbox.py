"""The transactional outbox: webhook messages and their deliveries, written in the
transaction of the event they announce.

Message bodies are rendered when they are sent, from rows that never change, so every retry
of a message carries the same ``webhook-id`` and the same body.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    insert,
    literal,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tracker.store import sql_sqlite
from tracker.store.models import BigId, UTCDateTime
from tracker.store.notices.tables import DeliveryRow, EndpointRow, MessageRow


def subscribers(session: Session, event_type: str) -> list[int]:
    """Ids of the live endpoints subscribed to ``event_type`` (a small table)."""
    rows = session.execute(
        select(EndpointRow.id, EndpointRow.event_types).where(
            EndpointRow.enabled.is_(True), EndpointRow.removed_at.is_(None)
        )
    )
    return [rid for rid, types in rows if event_type in types.split(",")]


def enqueue(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    version_id: int | None = None,
    endpoints: Sequence[int] | None = None,
) -> int | None:
    """Write one message and its deliveries; None when no endpoint subscribes."""
    endpoints = subscribers(session, event_type) if endpoints is None else endpoints
    if not endpoints:
        return None
    message = MessageRow(
        webhook_id=f"msg_{secrets.token_hex(16)}",
        event_type=event_type,
        version_id=version_id,
        data=data,
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.execute(
        insert(DeliveryRow),
        [
            {
                "message_id": message.id,
                "endpoint_id": e,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for e in endpoints
        ],
    )
    return message.id


def deliveries_for(session: Session, endpoints: Sequence[int], where: Any, now: datetime) -> None:
    """One delivery per (message matching ``where``, endpoint), set-based."""
    if not endpoints:
        return
    ep = select(EndpointRow.id.label("eid")).where(EndpointRow.id.in_(endpoints)).subquery()
    session.execute(
        insert(DeliveryRow).from_select(
            ["message_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"],
            select(
                MessageRow.id,
                ep.c.eid,
                literal("pending"),
                literal(0),
                bindparam("now_a", now, type_=UTCDateTime),
                bindparam("now_b", now, type_=UTCDateTime),
            )
            .select_from(MessageRow)
            .join(ep, literal(True))
            .where(where),
        )
    )


# Built once: ``announce`` runs on every acceptance.
_SUBSCRIBED = (
    EndpointRow.enabled.is_(True),
    EndpointRow.removed_at.is_(None),
    (literal(",") + EndpointRow.event_types + literal(",")).like(bindparam("b_like"), escape="/"),
)
_ANNOUNCE = (
    insert(MessageRow)
    .from_select(
        ["webhook_id", "event_type", "version_id", "data", "created_at"],
        select(
            bindparam("b_webhook_id", type_=MessageRow.webhook_id.type),
            bindparam("b_event_type", type_=MessageRow.event_type.type),
            bindparam("b_version_id", type_=Integer),
            bindparam("b_data", type_=MessageRow.data.type),
            bindparam("b_now", type_=UTCDateTime),
        ).where(select(EndpointRow.id).where(*_SUBSCRIBED).exists()),
    )
    .returning(MessageRow.id)
)
_DELIVER = insert(DeliveryRow).from_select(
    ["message_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"],
    select(
        bindparam("b_message_id", type_=BigId),
        EndpointRow.id,
        literal("pending"),
        literal(0),
        bindparam("b_now", type_=UTCDateTime),
        bindparam("b_now", type_=UTCDateTime),
    ).where(*_SUBSCRIBED),
)


def announce(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    version_id: int | None = None,
) -> int | None:
    """Write one message and its deliveries to the endpoints subscribed to ``event_type`` as
    this transaction sees them; None when none subscribes.

    Set-based (``INSERT … SELECT`` from the endpoints), so no list of subscribers is read
    or cached: an endpoint another process added is subscribed from its commit on. One
    statement when nobody subscribes, two otherwise.
    """
    params = {"b_like": _like(event_type), "b_now": now}
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # Mostly nobody subscribes: ask the driver first (cheaper than the statement
        # machinery; writers are serialised, so the answer holds for this transaction).
        driver: Any = connection.connection.driver_connection
        if driver.execute(sql_sqlite.ANY_SUBSCRIBER, (params["b_like"],)).fetchone() is None:
            return None
    message_id = connection.execute(
        _ANNOUNCE,
        {
            **params,
            "b_webhook_id": f"msg_{secrets.token_hex(16)}",
            "b_event_type": event_type,
            "b_version_id": version_id,
            "b_data": data,
        },
    ).scalar()
    if message_id is not None:
        connection.execute(_DELIVER, {**params, "b_message_id": message_id})
    return message_id


def _like(event_type: str) -> str:
    """The LIKE pattern of an endpoint subscribed to ``event_type`` (``,``-separated)."""
    escaped = event_type.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%,{escaped},%"


def announcement(
    dialect: Dialect, event_type: str, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The values of ``announce`` on PostgreSQL as CTEs of another statement
    (``sql_postgresql.RECORD_ACCEPTANCE``): the message and its deliveries, written when
    an endpoint subscribes."""
    (dump,) = sql_sqlite.binders(dialect, _MESSAGES, ("data",))
    return {
        "like": _like(event_type),
        "now": now,
        "webhook_id": f"msg_{secrets.token_hex(16)}",
        "event_type": event_type,
        "version_id": None,
        "data": dump(data),
    }


_MESSAGES = MessageRow.__table__

"""audit chain: chain columns on events, audit records, the chain head, checkpoints

Existing events are chained in id order, with fresh salts for their personal fields.

Create Date: 2026-11-26
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCDT = sa.DateTime(timezone=True)
EVENT_COLUMNS: list[tuple[str, Any]] = [
    ("chain_seq", BIG),
    ("chain_prev", sa.String(length=64)),
    ("chain_hash", sa.String(length=64)),
    ("commitments", sa.JSON()),
    ("user_id_salt", sa.String(length=32)),
    ("ip_salt", sa.String(length=32)),
    ("user_agent_salt", sa.String(length=32)),
    ("context_salt", sa.String(length=32)),
]


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): other tables hold foreign keys to events.
    for name, type_ in EVENT_COLUMNS:
        op.add_column("events", sa.Column(name, type_, nullable=True))
    op.create_index("ix_events_chain_seq", "events", ["chain_seq"], unique=True)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", BIG, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_records",
        sa.Column("seq", BIG, autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("user_id_salt", sa.String(length=32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("commitments", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDT, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
    )
    op.create_index("ix_audit_records_user_id", "audit_records", ["user_id"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence", BIG, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("time", UTCDT, nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    _chain_existing_events()


# The chain's format 1 as it was when this migration was written (tracker.chain.canonical
# and tracker.chain.records): a migration keeps its own copy, so that it never changes when
# the chain code does.
GENESIS = "0" * 64
PERSONAL = ("user_id", "ip", "user_agent", "context")


def _canonical(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _commitments(personal: Mapping[str, Any]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Fresh salts and ``HMAC-SHA256(salt, field NUL canonical(value))`` per personal field."""
    commits: dict[str, str | None] = {}
    salts: dict[str, str] = {}
    for field in PERSONAL:
        value = personal.get(field)
        if value is None:
            commits[field] = None
            continue
        salts[field] = secrets.token_hex(16)
        message = field.encode() + b"\x00" + _canonical(value)
        commits[field] = hmac.digest(bytes.fromhex(salts[field]), message, "sha256").hex()
    return commits, salts


def _link(prev: str, seq: int, data: dict[str, Any], commits: dict[str, str | None]) -> str:
    body = _canonical(
        {"chain": 1, "seq": seq, "type": "event", "data": data, "commitments": commits}
    )
    return hashlib.sha256(bytes.fromhex(prev) + hashlib.sha256(body).digest()).hexdigest()


def _chain_existing_events() -> None:
    bind = op.get_bind()
    events = sa.table(
        "events",
        *(
            sa.column(c)
            for c in [
                "id",
                "user_id",
                "policy_id",
                "version_id",
                "kind",
                "method",
                "api_key_id",
                "ip",
                "user_agent",
                "locale",
                "created_at",
            ]
        ),
        sa.column("context", sa.JSON()),
        sa.column("commitments", sa.JSON()),
        *(sa.column(name) for name, _ in EVENT_COLUMNS if name != "commitments"),
    )
    versions: dict[Any, Any] = dict(bind.execute(sa.text("SELECT id, sha256 FROM versions")).all())
    prev, seq = GENESIS, 0
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        seq += 1
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        data = {
            "kind": row["kind"],
            "policy_id": row["policy_id"],
            "version_id": row["version_id"],
            "version_sha256": versions.get(row["version_id"]),
            "method": row["method"],
            "api_key_id": row["api_key_id"],
            "locale": row["locale"],
            "recorded_at": _rfc3339(created),
        }
        personal = {k: row[k] for k in PERSONAL}
        commits, salts = _commitments(personal)
        hash_ = _link(prev, seq, data, commits)
        bind.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(
                chain_seq=seq,
                chain_prev=prev,
                chain_hash=hash_,
                commitments=commits,
                **{f"{k}_salt": salts.get(k) for k in PERSONAL},
            )
        )
        prev = hash_
    head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    bind.execute(head.insert().values(id=1, seq=seq, hash=prev))


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_records_user_id", table_name="audit_records")
    op.drop_table("audit_records")
    op.drop_table("audit_head")
    op.drop_index("ix_events_chain_seq", table_name="events")
    for name, _ in reversed(EVENT_COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE events DROP COLUMN {name}")  # SQLite ≥ 3.35, no rebuild
        else:
            op.drop_column("events", name)

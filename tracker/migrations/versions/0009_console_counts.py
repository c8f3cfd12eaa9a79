"""the console's counts, kept by the database: consents, notices and first acceptances

Triggers keep three count tables in step with the rows they count, in the transaction that
changes them: consents by (policy, accepted version, last version, last decision), notices by
(version, acknowledged, closed, reason), and users by the day of their first acceptance of a
version. SQLite adds to the counts directly (one writer at a time); PostgreSQL appends to
delta tables that no two writers share a row of, folded into the counts in the background
(``tracker.store.counts.compact``). The counts are made here from the rows as they are.

Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Key columns, then the count. A missing version is 0 and a missing kind or reason '',
# so that every key column can be in the primary key.
CONSENT_KEY = ("policy_id", "accepted_version_id", "last_version_id", "last_kind")
NOTICE_KEY = ("version_id", "acknowledged", "closed", "closed_reason")
ADOPTION_KEY = ("version_id", "day")


def _consent_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("accepted_version_id", sa.Integer(), nullable=False),
        sa.Column("last_version_id", sa.Integer(), nullable=False),
        sa.Column("last_kind", sa.String(length=16), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
    ]


def _notice_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("closed_reason", sa.String(length=16), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
    ]


def _adoption_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
    ]


# ---------------------------------------------------------------------------
# SQLite: row triggers that add to the counts (upserts; the write lock is held).

_SQLITE_UPSERT = {
    "console_consent_counts": (
        "INSERT INTO console_consent_counts "
        "(policy_id, accepted_version_id, last_version_id, last_kind, users) "
        "SELECT {r}.policy_id, coalesce({r}.accepted_version_id, 0), "
        "coalesce({r}.last_version_id, 0), {r}.last_kind, {n} WHERE {r}.last_kind IS NOT NULL "
        "ON CONFLICT (policy_id, accepted_version_id, last_version_id, last_kind) "
        "DO UPDATE SET users = users + excluded.users;"
    ),
    "console_notice_counts": (
        "INSERT INTO console_notice_counts "
        "(version_id, acknowledged, closed, closed_reason, notices) "
        "SELECT {r}.to_version_id, {r}.acknowledged_at IS NOT NULL, {r}.closed_at IS NOT NULL, "
        "coalesce({r}.closed_reason, ''), {n} WHERE true "
        "ON CONFLICT (version_id, acknowledged, closed, closed_reason) "
        "DO UPDATE SET notices = notices + excluded.notices;"
    ),
}
_SQLITE_ADOPT = (
    "INSERT INTO console_adoption_days (version_id, day, users) "
    "SELECT {v}, date({at}), {n} WHERE {when} "
    "ON CONFLICT (version_id, day) DO UPDATE SET users = users + excluded.users;"
)
# The user's first acceptance of the version among their other events (SQLite fires a row
# trigger as each row is written, so the statement's later rows are not there yet). The
# unary + keeps the planner on the user's events: without statistics it would take the
# version's, every one of them.
_SQLITE_FIRST = (
    "(SELECT min(created_at) FROM events WHERE user_id = {r}.user_id "
    "AND +version_id = {r}.version_id AND +kind = 'accepted'{other})"
)
_SQLITE_CONSENT_CHANGED = (
    "OLD.policy_id IS NOT NEW.policy_id OR OLD.accepted_version_id IS NOT NEW.accepted_version_id "
    "OR OLD.last_version_id IS NOT NEW.last_version_id OR OLD.last_kind IS NOT NEW.last_kind"
)
_SQLITE_NOTICE_CHANGED = (
    "OLD.to_version_id IS NOT NEW.to_version_id "
    "OR (OLD.acknowledged_at IS NULL) <> (NEW.acknowledged_at IS NULL) "
    "OR (OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL) "
    "OR OLD.closed_reason IS NOT NEW.closed_reason"
)


def _sqlite_triggers() -> list[str]:
    consent = _SQLITE_UPSERT["console_consent_counts"]
    notice = _SQLITE_UPSERT["console_notice_counts"]
    before = _SQLITE_FIRST.format(r="NEW", other=" AND id <> NEW.id")
    after = _SQLITE_FIRST.format(r="OLD", other="")
    return [
        "CREATE TRIGGER console_consents_insert AFTER INSERT ON consents "
        f"BEGIN {consent.format(r='NEW', n=1)} END",
        f"CREATE TRIGGER console_consents_update AFTER UPDATE ON consents "
        f"WHEN {_SQLITE_CONSENT_CHANGED} "
        f"BEGIN {consent.format(r='OLD', n=-1)} {consent.format(r='NEW', n=1)} END",
        "CREATE TRIGGER console_consents_delete AFTER DELETE ON consents "
        f"BEGIN {consent.format(r='OLD', n=-1)} END",
        "CREATE TRIGGER console_notices_insert AFTER INSERT ON notices "
        f"BEGIN {notice.format(r='NEW', n=1)} END",
        f"CREATE TRIGGER console_notices_update AFTER UPDATE ON notices "
        f"WHEN {_SQLITE_NOTICE_CHANGED} "
        f"BEGIN {notice.format(r='OLD', n=-1)} {notice.format(r='NEW', n=1)} END",
        "CREATE TRIGGER console_notices_delete AFTER DELETE ON notices "
        f"BEGIN {notice.format(r='OLD', n=-1)} END",
        # A first acceptance counts on its day; one earlier than the user's first so far
        # (an import) moves the user to its day.
        "CREATE TRIGGER console_events_insert AFTER INSERT ON events "
        "WHEN NEW.kind = 'accepted' AND NEW.version_id IS NOT NULL BEGIN "
        + _SQLITE_ADOPT.format(
            v="NEW.version_id",
            at=before,
            n=-1,
            when=f"{before} > NEW.created_at",
        )
        + _SQLITE_ADOPT.format(
            v="NEW.version_id",
            at="NEW.created_at",
            n=1,
            when=f"coalesce({before} > NEW.created_at, true)",
        )
        + " END",
        # Deleted by hand (the tracker never deletes an event): the reverse.
        "CREATE TRIGGER console_events_delete AFTER DELETE ON events "
        "WHEN OLD.kind = 'accepted' AND OLD.version_id IS NOT NULL BEGIN "
        + _SQLITE_ADOPT.format(
            v="OLD.version_id",
            at="OLD.created_at",
            n=-1,
            when=f"coalesce({after} > OLD.created_at, true)",
        )
        + _SQLITE_ADOPT.format(v="OLD.version_id", at=after, n=1, when=f"{after} > OLD.created_at")
        + " END",
    ]


# ---------------------------------------------------------------------------
# PostgreSQL: triggers that append to the delta tables (no row shared by two writers).

_PG_DAY = "({} AT TIME ZONE 'UTC')::date"
_PG_FUNCTIONS = [
    # A consent leaves its old group and joins its new one (a row without a decision yet,
    # which ``record`` creates to lock it, is in none).
    """
CREATE FUNCTION console_count_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.last_kind IS NOT NULL THEN
    INSERT INTO console_consent_deltas
      (policy_id, accepted_version_id, last_version_id, last_kind, users)
    VALUES (OLD.policy_id, coalesce(OLD.accepted_version_id, 0),
            coalesce(OLD.last_version_id, 0), OLD.last_kind, -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.last_kind IS NOT NULL THEN
    INSERT INTO console_consent_deltas
      (policy_id, accepted_version_id, last_version_id, last_kind, users)
    VALUES (NEW.policy_id, coalesce(NEW.accepted_version_id, 0),
            coalesce(NEW.last_version_id, 0), NEW.last_kind, 1);
  END IF;
  RETURN NULL;
END $$
""",
    # A notice changes state (its acceptance closes it, an app acknowledges it, a later
    # notice supersedes it), or is deleted by hand.
    """
CREATE FUNCTION console_count_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO console_notice_deltas
    (version_id, acknowledged, closed, closed_reason, notices)
  VALUES (OLD.to_version_id, OLD.acknowledged_at IS NOT NULL, OLD.closed_at IS NOT NULL,
          coalesce(OLD.closed_reason, ''), -1);
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO console_notice_deltas
      (version_id, acknowledged, closed, closed_reason, notices)
    VALUES (NEW.to_version_id, NEW.acknowledged_at IS NOT NULL, NEW.closed_at IS NOT NULL,
            coalesce(NEW.closed_reason, ''), 1);
  END IF;
  RETURN NULL;
END $$
""",
    # Notices are made a million at a time (the fan-out): counted once per statement.
    """
CREATE FUNCTION console_count_notices_made() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO console_notice_deltas
    (version_id, acknowledged, closed, closed_reason, notices)
  SELECT to_version_id, acknowledged_at IS NOT NULL, closed_at IS NOT NULL,
         coalesce(closed_reason, ''), count(*)
  FROM made GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$
""",
    # A user's first acceptance of a version counts on its day. Events before this one (by
    # id: a statement's rows are all there when its row triggers run) decide whether it is
    # the first; one earlier than the first so far (an import) moves the user to its day.
    # The user's events are read on their index, whatever the plan cached while the table
    # was small said (a scan of every event for each new one): no other index fits the
    # expressions, and no sequential scan.
    f"""
CREATE FUNCTION console_count_acceptance() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
  first timestamptz;
BEGIN
  SELECT min(created_at) INTO first FROM events
  WHERE user_id = NEW.user_id AND id + 0 < NEW.id
    AND version_id + 0 = NEW.version_id AND kind || '' = 'accepted';
  IF first IS NULL THEN
    INSERT INTO console_adoption_deltas (version_id, day, users)
    VALUES (NEW.version_id, {_PG_DAY.format("NEW.created_at")}, 1);
  ELSIF NEW.created_at < first THEN
    INSERT INTO console_adoption_deltas (version_id, day, users)
    VALUES (NEW.version_id, {_PG_DAY.format("NEW.created_at")}, 1),
           (NEW.version_id, {_PG_DAY.format("first")}, -1);
  END IF;
  RETURN NULL;
END $$
""",
    # Deleted by hand (the tracker never deletes an event): each user's first acceptance
    # before and after the statement.
    f"""
CREATE FUNCTION console_uncount_acceptances() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
  INSERT INTO console_adoption_deltas (version_id, day, users)
  WITH touched AS (
    SELECT r.user_id, r.version_id, min(r.created_at) AS gone,
      (SELECT min(e.created_at) FROM events e WHERE e.user_id = r.user_id
        AND e.version_id + 0 = r.version_id AND e.kind || '' = 'accepted') AS kept
    FROM removed r WHERE r.kind = 'accepted' AND r.version_id IS NOT NULL
    GROUP BY r.user_id, r.version_id
  ), moved AS (
    SELECT version_id, {_PG_DAY.format("least(gone, kept)")} AS day, -1 AS users FROM touched
    UNION ALL
    SELECT version_id, {_PG_DAY.format("kept")}, 1 FROM touched WHERE kept IS NOT NULL
  )
  SELECT version_id, day, sum(users) FROM moved GROUP BY 1, 2 HAVING sum(users) <> 0;
  RETURN NULL;
END $$
""",
]
_PG_CONSENT_CHANGED = (
    "OLD.policy_id IS DISTINCT FROM NEW.policy_id "
    "OR OLD.accepted_version_id IS DISTINCT FROM NEW.accepted_version_id "
    "OR OLD.last_version_id IS DISTINCT FROM NEW.last_version_id "
    "OR OLD.last_kind IS DISTINCT FROM NEW.last_kind"
)
_PG_NOTICE_CHANGED = (
    "OLD.to_version_id IS DISTINCT FROM NEW.to_version_id "
    "OR (OLD.acknowledged_at IS NULL) <> (NEW.acknowledged_at IS NULL) "
    "OR (OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL) "
    "OR OLD.closed_reason IS DISTINCT FROM NEW.closed_reason"
)
_PG_TRIGGERS = [
    "CREATE TRIGGER console_consents_insert AFTER INSERT ON consents FOR EACH ROW "
    "WHEN (NEW.last_kind IS NOT NULL) EXECUTE FUNCTION console_count_consent()",
    "CREATE TRIGGER console_consents_update AFTER UPDATE ON consents FOR EACH ROW "
    f"WHEN ({_PG_CONSENT_CHANGED}) EXECUTE FUNCTION console_count_consent()",
    "CREATE TRIGGER console_consents_delete AFTER DELETE ON consents FOR EACH ROW "
    "WHEN (OLD.last_kind IS NOT NULL) EXECUTE FUNCTION console_count_consent()",
    "CREATE TRIGGER console_notices_insert AFTER INSERT ON notices "
    "REFERENCING NEW TABLE AS made FOR EACH STATEMENT "
    "EXECUTE FUNCTION console_count_notices_made()",
    "CREATE TRIGGER console_notices_update AFTER UPDATE ON notices FOR EACH ROW "
    f"WHEN ({_PG_NOTICE_CHANGED}) EXECUTE FUNCTION console_count_notice()",
    "CREATE TRIGGER console_notices_delete AFTER DELETE ON notices FOR EACH ROW "
    "EXECUTE FUNCTION console_count_notice()",
    "CREATE TRIGGER console_events_insert AFTER INSERT ON events FOR EACH ROW "
    "WHEN (NEW.kind = 'accepted' AND NEW.version_id IS NOT NULL) "
    "EXECUTE FUNCTION console_count_acceptance()",
    "CREATE TRIGGER console_events_delete AFTER DELETE ON events "
    "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT "
    "EXECUTE FUNCTION console_uncount_acceptances()",
]
_PG_FUNCTION_NAMES = (
    "console_count_consent",
    "console_count_notice",
    "console_count_notices_made",
    "console_count_acceptance",
    "console_uncount_acceptances",
)
_TRIGGERS = (
    ("consents", "console_consents_insert"),
    ("consents", "console_consents_update"),
    ("consents", "console_consents_delete"),
    ("notices", "console_notices_insert"),
    ("notices", "console_notices_update"),
    ("notices", "console_notices_delete"),
    ("events", "console_events_insert"),
    ("events", "console_events_delete"),
)


# ---------------------------------------------------------------------------
# The counts of the rows as they are.


def _count_all(dialect: str) -> list[str]:
    day = "date(first)" if dialect == "sqlite" else _PG_DAY.format("first")
    return [
        "INSERT INTO console_consent_counts "
        "(policy_id, accepted_version_id, last_version_id, last_kind, users) "
        "SELECT policy_id, coalesce(accepted_version_id, 0), coalesce(last_version_id, 0), "
        "last_kind, count(*) FROM consents WHERE last_kind IS NOT NULL "
        "GROUP BY policy_id, accepted_version_id, last_version_id, last_kind",
        "INSERT INTO console_notice_counts "
        "(version_id, acknowledged, closed, closed_reason, notices) "
        "SELECT to_version_id, acknowledged_at IS NOT NULL, closed_at IS NOT NULL, "
        "coalesce(closed_reason, ''), count(*) FROM notices GROUP BY 1, 2, 3, 4",
        "DELETE FROM console_adoption_days",
        "INSERT INTO console_adoption_days (version_id, day, users) "
        f"SELECT version_id, {day}, count(*) FROM ("
        "SELECT version_id, user_id, min(created_at) AS first FROM events "
        "WHERE kind = 'accepted' AND version_id IS NOT NULL GROUP BY version_id, user_id"
        ") AS firsts GROUP BY 1, 2",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "console_consent_counts",
        *_consent_columns(),
        sa.PrimaryKeyConstraint(*CONSENT_KEY, name=op.f("pk_console_consent_counts")),
    )
    op.create_table(
        "console_notice_counts",
        *_notice_columns(),
        sa.PrimaryKeyConstraint(*NOTICE_KEY, name=op.f("pk_console_notice_counts")),
    )
    # Appended to by PostgreSQL's triggers, emptied into the counts; no index to keep.
    op.create_table("console_consent_deltas", *_consent_columns())
    op.create_table("console_notice_deltas", *_notice_columns())
    op.create_table("console_adoption_deltas", *_adoption_columns())
    op.drop_table("console_adoption_rollups")
    if dialect == "postgresql":
        for sql in _PG_FUNCTIONS:
            op.execute(sql)
        for sql in _PG_TRIGGERS:
            op.execute(sql)
    else:
        for sql in _sqlite_triggers():
            op.execute(sql)
    # The triggers are in place (and the tables locked by them) before the rows are counted.
    for sql in _count_all(dialect):
        op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, trigger in _TRIGGERS:
        op.execute(
            f"DROP TRIGGER {trigger} ON {table}"
            if dialect == "postgresql"
            else f"DROP TRIGGER {trigger}"
        )
    if dialect == "postgresql":
        for name in _PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {name}()")
    op.create_table(
        "console_adoption_rollups",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_console_adoption_rollups_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_console_adoption_rollups")),
    )
    # Before 0009 the console builds a version's roll-up again on its first view.
    op.execute("DELETE FROM console_adoption_days")
    op.drop_table("console_adoption_deltas")
    op.drop_table("console_notice_deltas")
    op.drop_table("console_consent_deltas")
    op.drop_table("console_notice_counts")
    op.drop_table("console_consent_counts")

"""The console's counts, kept by the database as the rows they count change.

Triggers (migration 0009) count, in the transaction that writes the rows: the consents of a
policy by (accepted version, last version, last decision); the notices of a version by state;
the users by the day of their first acceptance of a version. So the console reads a few
dozen rows instead of counting a million, on every view, and its figures are the API's
(``version_stats``, ``notice_stats``) whoever wrote the rows: an acceptance, a withdrawal, a
re-acceptance request, a publication's fan-out, an erasure (which renames and so moves
nothing), an import.

SQLite adds to the counts directly: its writers take turns. On PostgreSQL a counter row
would make every writer of a policy wait for the one before it to commit, so there the
triggers append ±1 rows to delta tables (no row shared, nothing to wait for) and the
readers add up counts and deltas in one statement; ``compact`` folds the deltas into the
counts, in the background of the service (``tracker.console.tally``), so that there are
only a few seconds' worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.store.models import Base


class ConsentCountRow(Base):
    """Consents of a policy by their group; 0 is no version, '' no decision."""

    __tablename__ = "console_consent_counts"

    policy_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accepted_version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    users: Mapped[int] = mapped_column(Integer)


class NoticeCountRow(Base):
    """Notices of a version by state; '' is no closing reason."""

    __tablename__ = "console_notice_counts"

    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    closed: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    closed_reason: Mapped[str] = mapped_column(String(16), primary_key=True)
    notices: Mapped[int] = mapped_column(Integer)


class AdoptionDayRow(Base):
    """Users whose first acceptance of a version fell on a day (UTC)."""

    __tablename__ = "console_adoption_days"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    users: Mapped[int] = mapped_column(Integer)


def _deltas(name: str, counted: Table) -> Table:
    """PostgreSQL's ±n rows for ``counted`` (no key: only appended to, and emptied)."""
    columns = [Column(c.name, c.type, nullable=False) for c in counted.columns]
    return Table(name, Base.metadata, *columns)


_CONSENTS = ConsentCountRow.__table__
_NOTICES = NoticeCountRow.__table__
_ADOPTION = AdoptionDayRow.__table__
assert isinstance(_CONSENTS, Table) and isinstance(_NOTICES, Table)
assert isinstance(_ADOPTION, Table)
CONSENT_DELTAS = _deltas("console_consent_deltas", _CONSENTS)
NOTICE_DELTAS = _deltas("console_notice_deltas", _NOTICES)
ADOPTION_DELTAS = _deltas("console_adoption_deltas", _ADOPTION)


@dataclass(frozen=True)
class _Kept:
    counts: Table
    deltas: Table
    key: tuple[str, ...]
    n: str


_KEPT = (
    _Kept(_CONSENTS, CONSENT_DELTAS, tuple(c.name for c in _CONSENTS.primary_key), "users"),
    _Kept(_NOTICES, NOTICE_DELTAS, tuple(c.name for c in _NOTICES.primary_key), "notices"),
    _Kept(_ADOPTION, ADOPTION_DELTAS, tuple(c.name for c in _ADOPTION.primary_key), "users"),
)


def _read(session: Session, kept: _Kept, column: str, value: int) -> list[Any]:
    """(key columns but ``column``…, count) with ``column == value``: counts and deltas
    added up in one statement (one snapshot: a compaction is in it wholly or not at all)."""
    rest = [k for k in kept.key if k != column]
    parts = [
        select(*(t.c[k] for k in rest), t.c[kept.n].label("n")).where(t.c[column] == value)
        for t in (kept.counts, kept.deltas)
    ]
    both = union_all(*parts).subquery()
    total = func.sum(both.c.n)
    keys = [both.c[k] for k in rest]
    query = select(*keys, total).group_by(*keys).having(total != 0).order_by(*keys)
    return list(session.execute(query).all())


def consent_groups(
    session: Session, policy_id: int
) -> list[tuple[int | None, int | None, str, int]]:
    """(accepted version id, last version id, last decision, users) of a policy's consents
    that hold a decision (every consent but the one ``record`` is writing)."""
    return [
        (a or None, v or None, str(k), int(n))
        for a, v, k, n in _read(session, _KEPT[0], "policy_id", policy_id)
    ]


def notice_figures(session: Session, version_id: int) -> dict[str, int]:
    """What ``notice_stats`` counts: created, acknowledged, pending, superseded, accepted."""
    out = dict.fromkeys(("created", "acknowledged", "pending", "superseded", "accepted"), 0)
    for acknowledged, closed, reason, n in _read(session, _KEPT[1], "version_id", version_id):
        out["created"] += n
        out["acknowledged"] += n if acknowledged else 0
        out["pending"] += n if not (acknowledged or closed) else 0
        if reason in ("superseded", "accepted"):
            out[reason] += n
    return {k: int(v) for k, v in out.items()}


def adoption_days(session: Session, version_id: int) -> list[tuple[date, int]]:
    """(day, users whose first acceptance of the version fell on it), oldest first."""
    return [
        (day if isinstance(day, date) else date.fromisoformat(day), int(n))
        for day, n in _read(session, _KEPT[2], "version_id", version_id)
    ]


#: Taken for the length of a compaction, so that two (one per worker) never queue.
_COMPACTING = 0x636F6E736F6C65  # "console"


def compact(session: Session) -> int:
    """PostgreSQL: move the deltas into the counts, each table in one statement; how many
    count rows changed (0 when another process is compacting, and always on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    if not session.scalar(select(func.pg_try_advisory_xact_lock(_COMPACTING))):
        return 0
    moved = 0
    for kept in _KEPT:
        # DELETE … RETURNING takes exactly the rows it adds: a delta committed meanwhile
        # stays for the next time.
        gone = delete(kept.deltas).returning(*kept.deltas.c).cte("gone")
        keys = [gone.c[k] for k in kept.key]
        upsert = pg_insert(kept.counts).from_select(
            [*kept.key, kept.n], select(*keys, func.sum(gone.c[kept.n])).group_by(*keys)
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=list(kept.key),
            set_={kept.n: kept.counts.c[kept.n] + upsert.excluded[kept.n]},
        )
        done = session.execute(upsert)
        moved += max(int(getattr(done, "rowcount", 0) or 0), 0)
        session.execute(delete(kept.counts).where(kept.counts.c[kept.n] == 0))
    return moved

"""Backups of a SQLite database, taken while the service writes, and restores into an empty one.

``backup`` uses SQLite's online backup API in one step: it reads one snapshot (a read
transaction in WAL mode does not block writers), so the copy holds every write committed
before it started and none half-done. ``restore`` copies a backup into a database that
holds no tables yet, the same way. Both check the copy (``PRAGMA quick_check``) before they
report success; ``policy-tracker verify --checkpoint`` then checks the audit chain of the
restored database against a checkpoint kept outside it.

PostgreSQL has its own tools (``pg_dump`` / ``pg_restore``, or base backups with WAL
archiving for point-in-time recovery): docs/audit.md gives the procedure, and the same
verification step.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker.errors import TrackerError

POSTGRES_HINT = (
    "is PostgreSQL: use pg_dump/pg_restore or a base backup with WAL archiving "
    "(docs/audit.md, Backups), then policy-tracker verify --checkpoint on the copy"
)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    pages: int
    events: int

    def summary(self, verb: str) -> str:
        return f"{verb} {self.path}: {self.pages} pages, {self.events} events, quick_check ok"


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite URL; a one-line error for anything else."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise TrackerError(f"the database {POSTGRES_HINT}")
    if not url.database or url.database == ":memory:":
        raise TrackerError("the database is in memory: there is nothing to back up")
    return Path(url.database)


def _connect(path: Path, *, must_exist: bool) -> sqlite3.Connection:
    if must_exist and not path.is_file():
        raise TrackerError(f"{path}: no such database file")
    uri = f"file:{path}?mode={'rw' if must_exist else 'rwc'}"
    return sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)


def _checked(conn: sqlite3.Connection, path: Path) -> BackupResult:
    problem = conn.execute("PRAGMA quick_check").fetchone()[0]
    if problem != "ok":
        raise TrackerError(f"{path}: the copy failed its check: {problem}")
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    has_events = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'"
    ).fetchone()[0]
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0] if has_events else 0
    return BackupResult(path, pages, int(events))


def _tables(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    )


def backup(database_url: str, target: Path) -> BackupResult:
    """Copy the database at ``database_url`` to a new file ``target`` (never overwritten)."""
    source_path = sqlite_path(database_url)
    if target.exists():
        raise TrackerError(f"{target} exists; give a new file name (a backup never overwrites)")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _connect(source_path, must_exist=True)
    try:
        if _tables(source) == 0:
            raise TrackerError(f"{source_path}: the database holds no tables")
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            source.backup(copy, pages=-1)  # one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            return _checked(copy, target)
        finally:
            copy.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        source.close()


def restore(backup_file: Path, database_url: str) -> BackupResult:
    """Copy ``backup_file`` into the (empty or absent) database at ``database_url``."""
    target_path = sqlite_path(database_url)
    source = _connect(backup_file, must_exist=True)
    try:
        _checked(source, backup_file)
        target = _connect(target_path, must_exist=False)
        try:
            if _tables(target) != 0:
                raise TrackerError(
                    f"{target_path} already holds tables; restore into a new, empty database"
                )
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")
            return _checked(target, target_path)
        finally:
            target.close()
    finally:
        source.close()

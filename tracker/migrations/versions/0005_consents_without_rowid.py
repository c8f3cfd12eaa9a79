"""consents: a WITHOUT ROWID table on SQLite (the status lookup in one B-tree descent)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(with_rowid: bool) -> None:
    """SQLite cannot change a table's storage in place: batch mode copies it."""
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL has no such storage choice
    with op.batch_alter_table(
        "consents", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)

"""events bound to the text in the user's language: translation version and its SHA-256

An event that names a locale with a text for its version is bound to that translation
version and its SHA-256, both hashed into the audit chain. Events recorded before this
revision carry neither (their chain records hash as they did).

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): other tables hold foreign keys to events. So no
    # foreign key either (SQLite adds one only by rebuilding the table): ``verify`` checks
    # each binding against translation_versions instead.
    op.add_column("events", sa.Column("translation_version_id", sa.Integer(), nullable=True))
    op.add_column("events", sa.Column("translation_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("events", "translation_sha256")
    op.drop_column("events", "translation_version_id")

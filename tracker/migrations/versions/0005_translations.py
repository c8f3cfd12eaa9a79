"""translations: each translation's versions, bound to the source version they translate

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"

UTCDT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "translation_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("translates_version_id", sa.Integer(), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("published_at", UTCDT, nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDT, nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_translation_versions_policy_id_policies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["translates_version_id"],
            ["versions.id"],
            name=op.f("fk_translation_versions_translates_version_id_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translation_versions")),
        sa.UniqueConstraint(
            "policy_id",
            "language",
            "number",
            name=op.f("uq_translation_versions_policy_id_language_number"),
        ),
    )


def downgrade() -> None:
    op.drop_table("translation_versions")

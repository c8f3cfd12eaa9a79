"""hosted acceptance page: app settings of API keys, acceptance links, service secrets

Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"

UTCDT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_key_apps",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("app_name", sa.String(length=200), nullable=True),
        sa.Column("brand_color", sa.String(length=7), nullable=True),
        sa.Column("return_urls", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_apps_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", name=op.f("pk_api_key_apps")),
    )
    op.create_table(
        "acceptance_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=True),
        sa.Column("return_url", sa.String(length=2048), nullable=False),
        sa.Column("locale", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDT, nullable=False),
        sa.Column("expires_at", UTCDT, nullable=False),
        sa.Column("used_at", UTCDT, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_acceptance_links_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acceptance_links")),
    )
    with op.batch_alter_table("acceptance_links", schema=None) as batch_op:
        batch_op.create_index("ix_acceptance_links_expires_at", ["expires_at"], unique=False)
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDT, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_secrets")),
    )


def downgrade() -> None:
    op.drop_table("service_secrets")
    with op.batch_alter_table("acceptance_links", schema=None) as batch_op:
        batch_op.drop_index("ix_acceptance_links_expires_at")
    op.drop_table("acceptance_links")
    op.drop_table("api_key_apps")

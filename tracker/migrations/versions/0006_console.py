"""the console: sign-in links, sessions, the daily adoption roll-up; events by version and day

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"

UTCDT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDT, nullable=False),
        sa.Column("expires_at", UTCDT, nullable=False),
        sa.Column("used_at", UTCDT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_links")),
    )
    op.create_index("ix_console_links_expires_at", "console_links", ["expires_at"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDT, nullable=False),
        sa.Column("last_seen_at", UTCDT, nullable=False),
        sa.Column("expires_at", UTCDT, nullable=False),
        sa.Column("ended_at", UTCDT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "console_adoption_days",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_console_adoption_days_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "day", name=op.f("pk_console_adoption_days")),
    )
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
    # The 3-column index serves every query the 2-column one did.
    op.create_index(
        "ix_events_version_id_kind_created_at", "events", ["version_id", "kind", "created_at"]
    )
    op.drop_index("ix_events_version_id_kind", table_name="events")
    # The console's counts read the consents of a policy from the index alone.
    op.create_index(
        "ix_consents_policy_accepted_last",
        "consents",
        ["policy_id", "accepted_version_id", "last_version_id", "last_kind"],
    )
    op.drop_index("ix_consents_policy_id_accepted_version_id", table_name="consents")


def downgrade() -> None:
    op.create_index(
        "ix_consents_policy_id_accepted_version_id",
        "consents",
        ["policy_id", "accepted_version_id"],
    )
    op.drop_index("ix_consents_policy_accepted_last", table_name="consents")
    op.create_index("ix_events_version_id_kind", "events", ["version_id", "kind"])
    op.drop_index("ix_events_version_id_kind_created_at", table_name="events")
    op.drop_table("console_adoption_rollups")
    op.drop_table("console_adoption_days")
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_index("ix_console_links_expires_at", table_name="console_links")
    op.drop_table("console_links")

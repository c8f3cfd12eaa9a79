"""webhooks: indexes for the console's last-24-hours figures

The console's overview counts the deliveries made in the last 24 hours by state, and its
webhooks page the attempts started in them. Without these indexes each view read every
delivery and attempt ever made; a major version's fan-out to a million users with two
endpoints makes two million deliveries. The count asks for each state by name, so that
``(state, created_at)`` gives it one range of the index a state, on both databases.

Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"


def upgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_state_created_at", "webhook_deliveries", ["state", "created_at"]
    )
    op.create_index("ix_webhook_attempts_started_at", "webhook_attempts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_started_at", "webhook_attempts")
    op.drop_index("ix_webhook_deliveries_state_created_at", "webhook_deliveries")

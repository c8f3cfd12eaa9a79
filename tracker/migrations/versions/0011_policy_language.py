"""policies: the language of each policy's source text

The site has always read a policy's language from its front matter (``language``, default
``en``); the tracker assumed English. It now stores the tag with the policy, and serves and
names languages by it (status ``?locale=``, notices, the hosted page). Every policy stored
before came from a tracker that knew only English sources: existing rows get ``en``, and
the next publish or sync sets the tag its front matter gives.

Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"


def upgrade() -> None:
    op.add_column(
        "policies",
        sa.Column("language", sa.String(length=35), nullable=False, server_default="en"),
    )


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops the column in place, where a batch would copy
    # ``policies`` and drop the original, which every table referring to it forbids.
    op.drop_column("policies", "language")

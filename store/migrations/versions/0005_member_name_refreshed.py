"""members' display names: when each was last read from Slack

The workbook shows owners by their Slack display name, cached on the member;
``display_name_at`` says when the name was last read (``users.info``), so a
stale one is read again and a fresh one is not. Existing names are kept and
count as stale (never read from Slack by this column's reckoning).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("display_name_at")

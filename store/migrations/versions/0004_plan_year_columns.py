"""plan file columns kept per objective; the day each schedule item began

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``objective.file_columns`` keeps the cells of plan-file columns the bot does not use
(and the Status/RAG cell as written), by their heading, so an export gives them back.
``schedule_item.created_on`` is the local day the item was made: no occurrence of a
recurring rule falls before it. Existing items take their objective's creation day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("objective", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_columns", sa.JSON(), nullable=True))
    with op.batch_alter_table("schedule_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_on", sa.Date(), nullable=True))
    objective = sa.table("objective", sa.column("id", sa.Integer()), sa.column("created_at"))
    item = sa.table(
        "schedule_item",
        sa.column("objective_id", sa.Integer()),
        sa.column("created_on", sa.Date()),
    )
    bind = op.get_bind()
    for objective_id, created_at in bind.execute(sa.select(objective.c.id, objective.c.created_at)):
        if created_at is None:
            continue
        # SQLite hands back the stored text, PostgreSQL a datetime (both in UTC).
        day = (
            dt.date.fromisoformat(created_at[:10])
            if isinstance(created_at, str)
            else created_at.date()
        )
        bind.execute(
            sa.update(item).where(item.c.objective_id == objective_id).values(created_on=day)
        )


def downgrade() -> None:
    with op.batch_alter_table("schedule_item", schema=None) as batch_op:
        batch_op.drop_column("created_on")
    with op.batch_alter_table("objective", schema=None) as batch_op:
        batch_op.drop_column("file_columns")

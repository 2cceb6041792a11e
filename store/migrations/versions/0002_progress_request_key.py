"""progress entries keyed by the request that made them

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

A progress entry records the key of the request that wrote it (a modal's view id and
hash, or a slash command's user, text and minute, hashed), unique, so the same
request repeated (a resubmitted view, a redelivered or retyped command) is stored once.
Entries written before this revision have no key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("progress_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_progress_entry_request_key"), ["request_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("progress_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_progress_entry_request_key"), type_="unique")
        batch_op.drop_column("request_key")

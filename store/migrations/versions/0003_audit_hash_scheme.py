"""audit chain keyed: record which scheme each hash uses

Records written before this revision keep their plain SHA-256 hashes and are
marked "sha256"; records written after it are HMAC-SHA256 under the audit key
("hmac"). Nothing is re-hashed, so an existing chain verifies as it did, and
the first keyed record chains onto the last unkeyed one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hash_scheme", sa.String(length=8), nullable=False, server_default="sha256")
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_column("hash_scheme")

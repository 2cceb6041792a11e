"""objectives hold ordered actions

An objective (theme, priority) of a real plan has several actions, each with its own
text, lead, timescale and schedule, RAG, status and progress. ``action`` holds them;
owners, schedule items and progress entries now belong to an action (and keep their
objective's id). Every existing objective becomes an objective with one action that
has its text, timescale, RAG, status and imported progress, and owns its owners,
schedule and progress; the objective's own columns stay as the roll-up of its actions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHILDREN = ("objective_owner", "schedule_item", "progress_entry")


def upgrade() -> None:
    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("timescale_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=True),
        sa.Column("needs_dating", sa.Boolean(), nullable=False),
        sa.Column("imported_progress", sa.Text(), nullable=True),
        sa.Column("file_columns", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objective.id"],
            name=op.f("fk_action_objective_id_objective"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_objective_id"), ["objective_id"], unique=False)
    # One action per existing objective, carrying what the objective held.
    op.execute(
        "INSERT INTO action (objective_id, position, text, timescale_text, status, rag, "
        "needs_dating, imported_progress, created_at, updated_at) "
        "SELECT id, 1, action_text, timescale_text, status, rag, needs_dating, "
        "imported_progress, created_at, updated_at FROM objective"
    )
    for table in _CHILDREN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("action_id", sa.Integer(), nullable=True))
        op.execute(
            f"UPDATE {table} SET action_id = (SELECT action.id FROM action "
            f"WHERE action.objective_id = {table}.objective_id)"
        )
    for table in _CHILDREN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("action_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_action_id_action"),
                "action",
                ["action_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index(batch_op.f(f"ix_{table}_action_id"), ["action_id"], unique=False)
            if table == "objective_owner":
                batch_op.drop_constraint("uq_objective_owner_objective_id", type_="unique")
                batch_op.create_unique_constraint(
                    batch_op.f("uq_objective_owner_action_id"), ["action_id", "label"]
                )


def downgrade() -> None:
    for table in reversed(_CHILDREN):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "objective_owner":
                batch_op.drop_constraint("uq_objective_owner_action_id", type_="unique")
                batch_op.create_unique_constraint(
                    "uq_objective_owner_objective_id", ["objective_id", "label"]
                )
            batch_op.drop_index(batch_op.f(f"ix_{table}_action_id"))
            batch_op.drop_constraint(f"fk_{table}_action_id_action", type_="foreignkey")
            batch_op.drop_column("action_id")
    op.drop_table("action")

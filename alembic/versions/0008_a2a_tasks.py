"""a2a tasks: Agent2Agent tasks (history, artifacts) per key, and their push webhooks

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "a2a_tasks",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("context_id", sa.String(100), nullable=False),
        sa.Column("route", sa.String(200)),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_a2a_tasks_key_updated", "a2a_tasks", ["key_id", "updated_at"])
    op.create_index("ix_a2a_tasks_key_context", "a2a_tasks", ["key_id", "context_id", "created_at"])
    op.create_table(
        "a2a_push_configs",
        sa.Column("task_id", sa.String(100), primary_key=True),
        sa.Column("config_id", sa.String(100), primary_key=True),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("a2a_push_configs")
    op.drop_index("ix_a2a_tasks_key_context", table_name="a2a_tasks")
    op.drop_index("ix_a2a_tasks_key_updated", table_name="a2a_tasks")
    op.drop_table("a2a_tasks")

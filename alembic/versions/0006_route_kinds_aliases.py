"""route kinds and model aliases: what a route serves (chat, embedding, image), and
model name patterns (`claude-*`, `*` for a default route) that resolve to a route

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="chat"))
    op.execute("UPDATE models SET kind = 'image' WHERE vendor = 'comfyui'")
    op.create_table(
        "model_aliases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pattern", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pattern", name="uq_model_aliases_pattern"),
    )


def downgrade() -> None:
    op.drop_table("model_aliases")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("kind")

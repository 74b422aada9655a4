"""cost and budgets: prices per route, a cost per usage record, spending limits per key

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def _money() -> sa.types.TypeEngine:
    """Exact amounts: NUMERIC(24, 12); on SQLite an integer of 10^-12 units
    (see lowart/store/_money.py)."""
    return sa.Numeric(24, 12).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("budget", _money()))
        batch.add_column(
            sa.Column("budget_period", sa.String(10), nullable=False, server_default="total")
        )
    with op.batch_alter_table("models") as batch:
        for column in ("price_in", "price_cached", "price_out", "price_image"):
            batch.add_column(sa.Column(column, _money()))
        batch.add_column(sa.Column("currency", sa.String(3)))
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("cost", _money()))
        batch.add_column(sa.Column("currency", sa.String(3)))
    with op.batch_alter_table("usage_daily") as batch:
        batch.add_column(sa.Column("cost", _money(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("usage_daily") as batch:
        batch.drop_column("cost")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("currency")
        batch.drop_column("cost")
    with op.batch_alter_table("models") as batch:
        for column in ("currency", "price_image", "price_out", "price_cached", "price_in"):
            batch.drop_column(column)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("budget_period")
        batch.drop_column("budget")

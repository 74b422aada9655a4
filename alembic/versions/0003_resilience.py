"""resilience: several deployments per model name, fallbacks, circuit health, key limits

Revision ID: 0003 (was 0008_resilience)
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite reflects the unnamed UNIQUE(name) of 0001 with no name; this convention
# names it so batch mode can drop it (PostgreSQL named it models_name_key itself).
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name_constraint() -> str:
    """The UNIQUE(name) of 0001, whatever this database called it."""
    inspector = sa.inspect(op.get_bind())
    for constraint in inspector.get_unique_constraints("models"):
        if constraint["column_names"] == ["name"]:
            return constraint["name"] or "uq_models_name"
    raise RuntimeError("models has no UNIQUE(name) constraint to drop")


def upgrade() -> None:
    unique = _unique_name_constraint()
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("models", naming_convention=_NAMING, recreate="always") as batch:
            batch.drop_constraint(unique, type_="unique")
            batch.add_column(sa.Column("weight", sa.Integer, nullable=False, server_default="1"))
    else:
        op.drop_constraint(unique, "models", type_="unique")
        op.add_column("models", sa.Column("weight", sa.Integer, nullable=False, server_default="1"))
    op.create_index("ix_models_name", "models", ["name"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("max_concurrency", sa.Integer))
        batch.add_column(
            sa.Column("quota_period", sa.String(10), nullable=False, server_default="total")
        )
    op.create_table(
        "model_fallbacks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("fallback", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("model", "fallback", name="uq_model_fallbacks_model_fallback"),
    )
    op.create_table(
        "deployment_health",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("open_until", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_health")
    op.drop_table("model_fallbacks")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("quota_period")
        batch.drop_column("max_concurrency")
    op.drop_index("ix_models_name", "models")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("weight")
        batch.create_unique_constraint("uq_models_name", ["name"])

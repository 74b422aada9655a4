"""initial schema: keys, models, config version, usage records and daily rollups

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("rpm", sa.Integer),
        sa.Column("tpm", sa.Integer),
        sa.Column("quota_tokens", sa.BigInteger),
        sa.Column("used_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("allowed_models", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    models = op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("vendor", sa.String(40), nullable=False),
        sa.Column("base_url", sa.String(2000)),
        sa.Column("upstream_model", sa.String(400), nullable=False),
        sa.Column("api_key_encrypted", sa.Text),
        sa.Column("api_key_env", sa.String(200)),
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("script", sa.Text),
        sa.Column("script_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The built-in mock model, so a fresh install answers with no vendor keys.
    now = datetime.now(UTC)
    op.bulk_insert(
        models,
        [
            {
                "name": "mock",
                "vendor": "mock",
                "upstream_model": "mock",
                "options": "{}",
                "script_version": 0,
                "enabled": True,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    config_state = op.create_table(
        "config_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(config_state, [{"id": 1, "version": 1}])
    op.create_table(
        "usage_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("key_id", sa.Integer),
        sa.Column("key_name", sa.String(200)),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("vendor", sa.String(40), nullable=False),
        sa.Column("upstream_model", sa.String(400), nullable=False),
        sa.Column("interface", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer, nullable=False),
        sa.Column("error_code", sa.String(100)),
        sa.Column("stream", sa.Boolean, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("total_tokens", sa.Integer, nullable=False),
        sa.Column("cache_read_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cache_creation_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("usage_source", sa.String(20), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("extra", sa.Text),
    )
    op.create_index("ix_usage_records_created_at", "usage_records", ["created_at"])
    op.create_index("ix_usage_records_key_created", "usage_records", ["key_id", "created_at"])
    op.create_index("ix_usage_records_route_created", "usage_records", ["route", "created_at"])
    op.create_table(
        "usage_daily",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("key_id", sa.Integer, primary_key=True),
        sa.Column("route", sa.String(200), primary_key=True),
        sa.Column("interface", sa.String(20), primary_key=True),
        sa.Column("key_name", sa.String(200)),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False),
        sa.Column("total_tokens", sa.BigInteger, nullable=False),
        sa.Column("latency_ms_sum", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("usage_daily", "usage_records", "config_state", "models", "api_keys"):
        op.drop_table(table)

"""mcp gateway: upstream MCP servers and their state, tool policies, allowed tools, tool-call audit

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("transport", sa.String(10), nullable=False),
        sa.Column("url", sa.String(2000)),
        sa.Column("headers_encrypted", sa.Text, nullable=False, server_default="{}"),
        sa.Column("command", sa.String(1000)),
        sa.Column("args", sa.Text, nullable=False, server_default="[]"),
        sa.Column("env_encrypted", sa.Text, nullable=False, server_default="{}"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("call_timeout", sa.Float, nullable=False, server_default="30"),
        sa.Column("max_result_bytes", sa.Integer, nullable=False, server_default="262144"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mcp_server_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("tool_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tools", sa.Text, nullable=False, server_default="[]"),
        sa.Column("last_error", sa.String(300)),
        sa.Column("connected_since", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mcp_tool_policies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pattern", sa.String(200), nullable=False),
        sa.Column("policy", sa.String(10), nullable=False),
        sa.Column("key_id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tool_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Integer),
        sa.Column("server", sa.String(32), nullable=False),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("result_bytes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.String(300)),
        sa.Column("request_id", sa.String(100)),
    )
    op.create_index("ix_tool_calls_at", "tool_calls", ["at"])
    op.add_column("api_keys", sa.Column("allowed_tools", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("allowed_tools")
    op.drop_index("ix_tool_calls_at", table_name="tool_calls")
    op.drop_table("tool_calls")
    op.drop_table("mcp_tool_policies")
    op.drop_table("mcp_server_state")
    op.drop_table("mcp_servers")

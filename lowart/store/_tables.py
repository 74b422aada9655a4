"""The database schema (SQLAlchemy Core). Alembic migrations must match it."""

from __future__ import annotations

import sqlalchemy as sa

from lowart.store._money import Money

__all__ = [
    "REQUEST_ID_MAX_LENGTH",
    "TOKEN_COLUMN_MAX",
    "a2a_push_configs",
    "a2a_tasks",
    "api_keys",
    "config_state",
    "deployment_health",
    "files",
    "image_jobs",
    "mcp_server_state",
    "mcp_servers",
    "mcp_tool_policies",
    "metadata",
    "model_aliases",
    "model_fallbacks",
    "models",
    "responses",
    "tool_calls",
    "tool_sessions",
    "usage_daily",
    "usage_records",
]

metadata = sa.MetaData()

# The longest request id a usage row holds; the edge bounds the ids it accepts by it.
REQUEST_ID_MAX_LENGTH = 100
# The largest count an INTEGER token column holds (PostgreSQL's int4; SQLite's is wider).
TOKEN_COLUMN_MAX = 2**31 - 1

api_keys = sa.Table(
    "api_keys",
    metadata,
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
    sa.Column("max_concurrency", sa.Integer),
    # "total", "day" or "month": the window quota_tokens applies to (UTC days/months).
    sa.Column("quota_period", sa.String(10), nullable=False, server_default="total"),
    # The most the key may spend per budget_period ("total", "day", "month"; UTC).
    sa.Column("budget", Money()),
    sa.Column("budget_period", sa.String(10), nullable=False, server_default="total"),
    # JSON list of `server.tool` glob patterns the key may use; NULL: every upstream tool.
    sa.Column("allowed_tools", sa.Text),
)

# One row per deployment: several rows may share a public name and split its
# traffic by weight.
models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, index=True),
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
    sa.Column("weight", sa.Integer, nullable=False, server_default="1"),
    # What the route serves: "chat", "embedding" or "image" (image vendors only).
    sa.Column("kind", sa.String(20), nullable=False, server_default="chat"),
    # Per million tokens (image: per image), in `currency`; unset: the shipped table's.
    sa.Column("price_in", Money()),
    sa.Column("price_cached", Money()),
    sa.Column("price_out", Money()),
    sa.Column("price_image", Money()),
    sa.Column("currency", sa.String(3)),
)

# Model name patterns that resolve to a route: an exact name, a shell pattern
# (`claude-*`), or `*`, the default route for names nothing else matches.
model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pattern", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("pattern", name="uq_model_aliases_pattern"),
)

# Fallback edges between public model names, tried in ascending priority.
model_fallbacks = sa.Table(
    "model_fallbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("fallback", sa.String(200), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("model", "fallback", name="uq_model_fallbacks_model_fallback"),
)

# The last circuit-breaker state a gateway published per deployment, so
# `lowart models list` (another process) can show it.
deployment_health = sa.Table(
    "deployment_health",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("open_until", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# One row whose version is bumped by every configuration change, so running
# gateways notice changes made by the CLI or by another process with one cheap read.
config_state = sa.Table(
    "config_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

usage_records = sa.Table(
    "usage_records",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("request_id", sa.String(REQUEST_ID_MAX_LENGTH), nullable=False),
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
    sa.Column("cost", Money()),
    sa.Column("currency", sa.String(3)),
    sa.Index("ix_usage_records_created_at", "created_at"),
    sa.Index("ix_usage_records_key_created", "key_id", "created_at"),
    sa.Index("ix_usage_records_route_created", "route", "created_at"),
)

# Daily rollups keep reports fast at millions of raw rows and survive retention.
usage_daily = sa.Table(
    "usage_daily",
    metadata,
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
    sa.Column("cost", Money(), nullable=False, server_default="0"),
)

# Image generations (ComfyUI): one row per generation, sync or async, so a job
# survives a gateway restart and its owner can list, poll and cancel it.
image_jobs = sa.Table(
    "image_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("key_name", sa.String(200)),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("interface", sa.String(20), nullable=False),
    sa.Column("request_id", sa.String(REQUEST_ID_MAX_LENGTH), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("workflow", sa.Text),
    sa.Column("prompt_id", sa.String(100)),
    sa.Column("client_id", sa.String(100)),
    sa.Column("progress", sa.Text),
    sa.Column("outputs", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    # The gateway process following an unfinished job, until when (renewed while it
    # lives): several processes on one database never follow the same job twice.
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Index("ix_image_jobs_key_created", "key_id", "created_at"),
    sa.Index("ix_image_jobs_status", "status"),
)

# Result files served by lowart; the bytes live under the data directory.
files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("job_id", sa.String(64)),
    sa.Column("filename", sa.String(400), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("path", sa.String(400), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_files_key", "key_id"),
    sa.Index("ix_files_job", "job_id"),
)

# Responses API objects kept for GET, previous_response_id and background runs:
# the Response as last written, and the conversation's input items up to it.
responses = sa.Table(
    "responses",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("input_items", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_responses_key_created", "key_id", "created_at"),
    sa.Index("ix_responses_created", "created_at"),
)

# A2A tasks: the whole task (status, history, artifacts) as the protocol's JSON,
# owned by the key that created it. `context_id` groups the turns of one conversation.
a2a_tasks = sa.Table(
    "a2a_tasks",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("context_id", sa.String(100), nullable=False),
    sa.Column("route", sa.String(200)),
    sa.Column("state", sa.String(40), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_a2a_tasks_key_updated", "key_id", "updated_at"),
    sa.Index("ix_a2a_tasks_key_context", "key_id", "context_id", "created_at"),
)

# Where a task's state changes are pushed (the client's webhook and its token).
a2a_push_configs = sa.Table(
    "a2a_push_configs",
    metadata,
    sa.Column("task_id", sa.String(100), primary_key=True),
    sa.Column("config_id", sa.String(100), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Tool loops paused on a `confirm` policy: the conversation so far, the request and
# the pending calls (`document`, JSON), owned by a key, continued once before expiry.
tool_sessions = sa.Table(
    "tool_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_tool_sessions_expires", "expires_at"),
)

# Upstream MCP servers (admin configuration). Header and env values are encrypted
# with the SecretBox (JSON objects name -> ciphertext); their names are not secret.
mcp_servers = sa.Table(
    "mcp_servers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(32), nullable=False, unique=True),
    sa.Column("transport", sa.String(10), nullable=False),  # "http" or "stdio"
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

# Where each server's connection stands, as the serving gateway last saw it (for
# `lowart mcp-servers list` in another process). Not configuration: writing it
# does not bump the configuration version.
mcp_server_state = sa.Table(
    "mcp_server_state",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("tool_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tools", sa.Text, nullable=False, server_default="[]"),  # JSON list of names
    sa.Column("last_error", sa.String(300)),
    sa.Column("connected_since", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Tool policies: a `server.tool` glob -> auto | confirm | block, for one key or
# (key_id NULL) for everyone.
mcp_tool_policies = sa.Table(
    "mcp_tool_policies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pattern", sa.String(200), nullable=False),
    sa.Column("policy", sa.String(10), nullable=False),
    sa.Column("key_id", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# The audit of upstream tool calls: every call and every refusal, one row each.
tool_calls = sa.Table(
    "tool_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("key_id", sa.Integer),
    sa.Column("server", sa.String(32), nullable=False),
    sa.Column("tool", sa.String(200), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False, server_default="0"),
    sa.Column("result_bytes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.String(300)),
    sa.Column("request_id", sa.String(REQUEST_ID_MAX_LENGTH)),
)

"""Settings: one frozen object built from the environment and command line.

Nothing reads `os.environ` after start-up; every component receives the
settings it needs, which keeps tests free to run several gateways in one process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from lowart.telemetry import METRICS_MODES

__all__ = ["DEFAULT_API_KEY_ENV_ALLOW", "DEFAULT_DATABASE_URL", "Settings", "api_key_env_refusal"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./lowart.db"
DEFAULT_API_KEY_ENV_ALLOW = ("*_API_KEY", "*_API_TOKEN")
"""Environment variables a route may take its provider key from, unless the operator
sets LOWART_API_KEY_ENV_ALLOW: provider-key names such as OPENAI_API_KEY."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")


def api_key_env_refusal(name: str, allow: Sequence[str]) -> str | None:
    """Why the gateway may not send variable `name` upstream as a provider key, or None.

    The gateway's own settings (LOWART_*) never qualify, whatever the allow-list says;
    other names must match one of the operator's patterns (shell-style, case-sensitive).
    """
    if not _ENV_NAME.match(name):
        return f"{name!r} is not an environment variable name."
    if name.upper().startswith("LOWART"):
        return f"The gateway's own settings ({name}) cannot be used as a provider key."
    if not any(fnmatchcase(name, pattern) for pattern in allow):
        return (
            f"The environment variable {name} is not allowed as a provider key; "
            f"LOWART_API_KEY_ENV_ALLOW allows {', '.join(allow) or 'none'}."
        )
    return None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


_OFF = ("0", "off", "false", "no")


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _metrics_mode(raw: str) -> str:
    mode = raw.strip().lower() or "admin"
    if mode not in METRICS_MODES:
        raise ValueError(f"LOWART_METRICS must be one of {', '.join(METRICS_MODES)}, not {raw!r}")
    return mode


def _tool_policy(raw: str) -> str:
    policy = raw.strip().lower() or "confirm"
    if policy not in ("auto", "confirm", "block"):
        raise ValueError(f"LOWART_TOOL_DEFAULT_POLICY must be auto, confirm or block, not {raw!r}")
    return policy


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int | None = 3000
    uds: str | None = None
    grpc: bool = True
    grpc_addr: str | None = "127.0.0.1:50051"
    grpc_uds: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    secret_key_file: Path = Path("./lowart.key")
    max_body_bytes: int = 32 * 1024 * 1024
    http_head_timeout: float = 10.0
    """Seconds a new HTTP connection gets to send its first request head (0: no limit)."""
    http_keepalive_timeout: float = 75.0
    """Seconds an HTTP connection may sit idle between requests."""
    connect_timeout: float = 10.0
    read_timeout: float = 600.0
    upstream_max_event_bytes: int = 8 * 1024 * 1024
    """One upstream stream event larger than this fails the call (502 / in-band error)."""
    shutdown_grace: float = 15.0
    config_poll_seconds: float = 1.0
    usage_flush_seconds: float = 0.2
    usage_journal: bool = True  # usage records also in a file until written (kill -9 safe)
    usage_batch_size: int = 500
    usage_retention_days: int | None = None
    file_retention_days: int | None = None  # result files (and their rows) older than this go
    response_retention_days: int | None = 30  # stored Responses API objects older than this go
    debug_bodies: bool = False
    bootstrap_admin: bool = True
    data_dir: Path = Path("./lowart-data")
    public_url: str | None = None
    mcp_enabled: bool = True
    mcp_allowed_origins: tuple[str, ...] = ()
    mcp_session_idle_seconds: float = 600.0  # a session nobody used for this long ends
    mcp_max_sessions: int = 2_000  # open MCP sessions in one process, all keys together
    mcp_max_sessions_per_key: int = 32  # so one key cannot take them all
    a2a_enabled: bool = True
    a2a_task_retention_days: int | None = 30  # A2A tasks not changed for this long go
    a2a_push_allow_private: bool = False
    """Let push webhooks reach loopback, link-local and private addresses (tests, LANs)."""
    a2a_push_timeout: float = 10.0  # seconds one webhook call may take
    a2a_push_attempts: int = 3  # tries per notification (backing off between them)
    tool_max_steps: int = 8  # model calls one tool loop (chat / Responses with MCP tools) makes
    tool_max_seconds: float = 120.0  # wall time one tool loop may take, tool calls included
    tool_approval_ttl: float = 3600.0  # seconds a loop paused on `confirm` waits for its answer
    tool_default_policy: str = "confirm"
    """The policy of an upstream MCP tool no rule matches: auto, confirm or block."""
    tool_keepalive_seconds: float = 15.0
    """How often an idle upstream MCP session is pinged (a dead one reconnects)."""
    redis_url: str | None = field(default=None, repr=False)
    """Shared limit counters for several gateway processes; unset = in-process limits."""
    redis_prefix: str = "lowart"
    lua_max_instructions: int = 5_000_000
    lua_max_memory_mb: int = 64
    lua_timeout: float = 0.25
    api_key_env_allow: tuple[str, ...] = DEFAULT_API_KEY_ENV_ALLOW
    """Patterns of environment variables a route's `api_key_env` may name."""
    metrics: str = "admin"
    """Who may read /metrics: `admin` (admin keys or `metrics_token`), `public`, `off`."""
    metrics_token: str | None = field(default=None, repr=False)
    """A bearer token that may read /metrics (besides admin keys), for scrapers."""
    metrics_key_labels: bool = False
    """Label token and request counters with key names (the operator's opt-in)."""
    otel: dict[str, str] = field(default_factory=dict, repr=False)
    """The standard `OTEL_*` settings the process started with (tracing is off without them)."""

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read `LOWART_*` variables; explicit keyword overrides win (the CLI's flags).

        `overrides` are field values passed to `dataclasses.replace` (typed per field there).
        """
        listen_mode = os.environ.get("LISTEN_MODE", "").upper()
        port: int | None = _env_int("LOWART_PORT", 3000)
        uds = os.environ.get("LOWART_UDS") or None
        grpc_addr: str | None = os.environ.get("LOWART_GRPC_ADDR") or "127.0.0.1:50051"
        grpc_uds = os.environ.get("LOWART_GRPC_UDS") or None
        if listen_mode == "UDS":
            port, uds = None, uds or "./lowart.sock"
            grpc_addr, grpc_uds = None, grpc_uds or "./lowart-grpc.sock"
        elif listen_mode == "BOTH":
            uds = uds or "./lowart.sock"
            grpc_uds = grpc_uds or "./lowart-grpc.sock"
        retention = os.environ.get("LOWART_USAGE_RETENTION_DAYS")
        settings = cls(
            database_url=os.environ.get("LOWART_DATABASE_URL", DEFAULT_DATABASE_URL),
            host=os.environ.get("LOWART_HOST", "127.0.0.1"),
            port=port,
            uds=uds,
            grpc_addr=grpc_addr,
            grpc_uds=grpc_uds,
            secret_key=os.environ.get("LOWART_SECRET_KEY") or None,
            secret_key_file=Path(os.environ.get("LOWART_SECRET_KEY_FILE", "./lowart.key")),
            max_body_bytes=_env_int("LOWART_MAX_BODY_BYTES", 32 * 1024 * 1024),
            http_head_timeout=_env_float("LOWART_HTTP_HEAD_TIMEOUT", 10.0),
            http_keepalive_timeout=_env_float("LOWART_HTTP_KEEPALIVE_TIMEOUT", 75.0),
            connect_timeout=_env_float("LOWART_CONNECT_TIMEOUT", 10.0),
            read_timeout=_env_float("LOWART_READ_TIMEOUT", 600.0),
            upstream_max_event_bytes=_env_int("LOWART_UPSTREAM_MAX_EVENT_BYTES", 8 * 1024 * 1024),
            shutdown_grace=_env_float("LOWART_SHUTDOWN_GRACE", 15.0),
            config_poll_seconds=_env_float("LOWART_CONFIG_POLL_SECONDS", 1.0),
            usage_retention_days=int(retention) if retention else None,
            usage_journal=os.environ.get("LOWART_USAGE_JOURNAL", "on").lower() not in _OFF,
            file_retention_days=_env_int("LOWART_FILE_RETENTION_DAYS", 0) or None,
            response_retention_days=_env_int("LOWART_RESPONSE_RETENTION_DAYS", 30) or None,
            debug_bodies=os.environ.get("LOWART_DEBUG_BODIES", "") in ("1", "true", "yes"),
            data_dir=Path(os.environ.get("LOWART_DATA_DIR", "./lowart-data")),
            public_url=os.environ.get("LOWART_PUBLIC_URL") or None,
            mcp_enabled=os.environ.get("LOWART_MCP", "on").lower() not in _OFF,
            mcp_allowed_origins=_env_list("LOWART_MCP_ALLOWED_ORIGINS"),
            mcp_session_idle_seconds=_env_float("LOWART_MCP_SESSION_IDLE_SECONDS", 600.0),
            mcp_max_sessions=_env_int("LOWART_MCP_MAX_SESSIONS", 2_000),
            mcp_max_sessions_per_key=_env_int("LOWART_MCP_MAX_SESSIONS_PER_KEY", 32),
            a2a_enabled=os.environ.get("LOWART_A2A", "on").lower() not in _OFF,
            a2a_task_retention_days=_env_int("LOWART_A2A_TASK_RETENTION_DAYS", 30) or None,
            a2a_push_allow_private=os.environ.get("LOWART_A2A_PUSH_ALLOW_PRIVATE", "")
            in ("1", "true", "yes"),
            a2a_push_timeout=_env_float("LOWART_A2A_PUSH_TIMEOUT", 10.0),
            a2a_push_attempts=max(1, _env_int("LOWART_A2A_PUSH_ATTEMPTS", 3)),
            tool_max_steps=max(1, _env_int("LOWART_TOOL_MAX_STEPS", 8)),
            tool_max_seconds=_env_float("LOWART_TOOL_MAX_SECONDS", 120.0),
            tool_approval_ttl=_env_float("LOWART_TOOL_APPROVAL_TTL", 3600.0),
            tool_default_policy=_tool_policy(os.environ.get("LOWART_TOOL_DEFAULT_POLICY", "")),
            tool_keepalive_seconds=_env_float("LOWART_TOOL_KEEPALIVE_SECONDS", 15.0),
            redis_url=os.environ.get("LOWART_REDIS_URL") or None,
            redis_prefix=os.environ.get("LOWART_REDIS_PREFIX") or "lowart",
            lua_max_instructions=_env_int("LOWART_LUA_MAX_INSTRUCTIONS", 5_000_000),
            lua_max_memory_mb=_env_int("LOWART_LUA_MAX_MEMORY_MB", 64),
            lua_timeout=_env_float("LOWART_LUA_TIMEOUT", 0.25),
            api_key_env_allow=_env_list("LOWART_API_KEY_ENV_ALLOW") or DEFAULT_API_KEY_ENV_ALLOW,
            metrics=_metrics_mode(os.environ.get("LOWART_METRICS", "admin")),
            metrics_token=os.environ.get("LOWART_METRICS_TOKEN") or None,
            metrics_key_labels=os.environ.get("LOWART_METRICS_KEY_LABELS", "").lower()
            in ("1", "true", "yes", "on"),
            otel={k: v for k, v in os.environ.items() if k.startswith("OTEL_")},
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean)

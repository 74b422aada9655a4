"""Admin of the MCP gateway: the registry of upstream servers, tool policies, the
keys' allowed tools (through `Admin.update_key`) and the tool-call audit.

Stored secrets (header and environment values) are encrypted with the same
SecretBox as provider keys and never leave here in clear: a server is shown
with its header and variable names only. Every write bumps the configuration
version, so each gateway process's hub applies it without a restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from lowart.admin._checks import parse_moment
from lowart.admin._public import without_credentials
from lowart.admin._tool_checks import (
    check_policy,
    check_server_name,
    check_tool_pattern,
    server_fields,
)
from lowart.errors import InvalidRequest, NotFound
from lowart.store import (
    DuplicateName,
    KeyStore,
    McpServerStore,
    SecretBox,
    ToolCallStore,
    ToolPolicyStore,
)
from lowart.toolhub import PolicyBook, Rule, allows, exposed_name
from lowart.toolhub._policies import as_policy
from lowart.toolhub._registry import seal_values

__all__ = ["ToolsAdmin"]

_SERVER_FIELDS = ("url", "headers", "command", "args", "env", "enabled", "timeout")
_ALL_FIELDS = (*_SERVER_FIELDS, "max_result_bytes")
_CALLS_MAX = 1000


async def _nothing() -> None:
    """No process to apply a change to (the CLI): serving processes poll the version."""


class ToolsAdmin:
    def __init__(
        self,
        servers: McpServerStore,
        policies: ToolPolicyStore,
        calls: ToolCallStore,
        keys: KeyStore,
        secrets: SecretBox,
        *,
        default_policy: str = "confirm",
        changed: Callable[[], Awaitable[None]] = _nothing,
        flush_calls: Callable[[], Awaitable[None]] = _nothing,
    ) -> None:
        self._servers = servers
        self._policies = policies
        self._calls = calls
        self._keys = keys
        self._secrets = secrets
        self._default = as_policy(default_policy)
        self._changed = changed
        self._flush_calls = flush_calls

    # ---- servers ---------------------------------------------------------------------

    async def add_server(self, name: object, **fields: Any) -> dict[str, Any]:
        """Register a streamable HTTP server (`url`, `headers`) or a stdio one
        (`command`, `args`, `env`); `enabled`, `timeout`, `max_result_bytes` optional."""
        server = check_server_name(name)
        _no_unknown(fields)
        values = server_fields(fields)
        if ("url" in values) == ("command" in values):
            raise InvalidRequest("Give either 'url' (streamable HTTP) or 'command' (stdio).")
        transport = "http" if "url" in values else "stdio"
        _fit_transport(transport, values)
        try:
            await self._servers.create(name=server, transport=transport, **self._sealed(values))
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        await self._changed()
        return await self.get_server(server)

    async def update_server(self, name: str, **fields: Any) -> dict[str, Any]:
        """Change a server; `headers`/`env` given replace the whole mapping. Giving `url`
        turns a stdio server into an HTTP one (and `command` the other way)."""
        row = await self._row(name)
        _no_unknown(fields)
        values = server_fields(fields)
        if not values:
            raise InvalidRequest("Nothing to update.")
        if "url" in values and "command" in values:
            raise InvalidRequest("Give either 'url' or 'command', not both.")
        transport = (
            "http" if "url" in values else "stdio" if "command" in values else row["transport"]
        )
        if transport != row["transport"]:
            values["transport"] = transport
            cleared = ("command", "args", "env") if transport == "http" else ("url", "headers")
            for field in cleared:
                values.setdefault(field, None)
        _fit_transport(transport, values)
        await self._servers.update(name, self._sealed(values))
        await self._changed()
        return await self.get_server(name)

    async def remove_server(self, name: str) -> None:
        if not await self._servers.remove(name):
            raise NotFound(f"No MCP server named '{name}'.")
        await self._changed()

    async def list_servers(self) -> list[dict[str, Any]]:
        states = await self._servers.states()
        return [_public_server(row, states.get(row["name"])) for row in await self._servers.list()]

    async def get_server(self, name: str) -> dict[str, Any]:
        row = await self._row(name)
        return _public_server(row, (await self._servers.states()).get(name))

    async def _row(self, name: str) -> dict[str, Any]:
        row = await self._servers.get(name)
        if row is None:
            raise NotFound(f"No MCP server named '{name}'.")
        return row

    def _sealed(self, values: dict[str, Any]) -> dict[str, Any]:
        """Checked values as columns: secrets encrypted, lists as JSON."""
        columns = dict(values)
        if "headers" in columns:
            columns["headers_encrypted"] = seal_values(self._secrets, columns.pop("headers") or {})
        if "env" in columns:
            columns["env_encrypted"] = seal_values(self._secrets, columns.pop("env") or {})
        if "args" in columns:
            columns["args"] = orjson.dumps(columns["args"] or []).decode()
        return columns

    # ---- policies --------------------------------------------------------------------

    async def set_policy(
        self, pattern: object, policy: object, key: object = None
    ) -> dict[str, Any]:
        checked = check_tool_pattern(pattern)
        key_id = await self._key_id(key)
        row = await self._policies.put(checked, check_policy(policy), key_id)
        await self._changed()
        return await self._public_policy(row)

    async def remove_policy(self, pattern: object, key: object = None) -> None:
        checked = check_tool_pattern(pattern)
        if not await self._policies.remove(checked, await self._key_id(key)):
            raise NotFound(f"No tool policy for '{checked}' in that scope.")
        await self._changed()

    async def list_policies(self) -> list[dict[str, Any]]:
        names = await self._key_names()
        return [_policy_row(row, names) for row in await self._policies.list()]

    async def _public_policy(self, row: dict[str, Any]) -> dict[str, Any]:
        return _policy_row(row, await self._key_names())

    async def list_tools(self, key: object = None) -> list[dict[str, Any]]:
        """Every tool the connected servers offer (as the serving gateway last published
        them), with its policy resolved for `key` (or globally) and whether the key's
        allow-list admits it."""
        book = PolicyBook(
            [
                Rule(r["pattern"], as_policy(r["policy"]), r["key_id"])
                for r in await self._policies.list()
            ],
            self._default,
        )
        key_row = await self._key_row(key) if key is not None else None
        allowed = (
            orjson.loads(key_row["allowed_tools"])
            if key_row and key_row.get("allowed_tools")
            else None
        )
        key_id = key_row["id"] if key_row else -1
        states = await self._servers.states()
        tools: list[dict[str, Any]] = []
        for row in await self._servers.list():
            state = states.get(row["name"]) or {}
            for tool in orjson.loads(state.get("tools") or "[]"):
                tools.append(
                    {
                        "server": row["name"],
                        "tool": tool,
                        "exposed": exposed_name(row["name"], tool),
                        "policy": book.policy(key_id, row["name"], tool),
                        "allowed": allows(allowed, row["name"], tool),
                    }
                )
        return tools

    # ---- the audit -------------------------------------------------------------------

    async def tool_calls(
        self,
        *,
        key: object = None,
        server: str | None = None,
        since: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """Audit rows, newest first; `before` (an id) pages back. Queued rows are written
        first, so a call that finished is always listed."""
        if not isinstance(limit, int) or not 1 <= limit <= _CALLS_MAX:
            raise InvalidRequest(f"'limit' must be from 1 to {_CALLS_MAX}.", param="limit")
        await self._flush_calls()
        key_id = await self._key_id(key) if key is not None else None
        rows = await self._calls.search(
            key_id=key_id,
            server=server,
            since=parse_moment(since),
            limit=limit,
            before_id=before,
        )
        names = await self._key_names()
        return [_public_call(row, names) for row in rows]

    # ---- keys ------------------------------------------------------------------------

    async def _key_row(self, key: object) -> dict[str, Any]:
        text = str(key).strip()
        for row in await self._keys.list():
            if row["name"] == text or str(row["id"]) == text:
                return row
        raise NotFound(f"No key named '{text}'.", param="key")

    async def _key_id(self, key: object) -> int | None:
        return None if key is None or key == "" else int((await self._key_row(key))["id"])

    async def _key_names(self) -> dict[int, str]:
        return {row["id"]: row["name"] for row in await self._keys.list()}


def _no_unknown(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(_ALL_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown MCP server field(s): {', '.join(sorted(unknown))}.")


def _fit_transport(transport: str, values: dict[str, Any]) -> None:
    wrong = ("command", "args", "env") if transport == "http" else ("url", "headers")
    given = [f for f in wrong if values.get(f)]
    if given:
        raise InvalidRequest(
            f"A {'streamable HTTP' if transport == 'http' else 'stdio'} server has no "
            f"{', '.join(given)}."
        )


def _public_server(row: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    if not row["enabled"]:
        live = "disabled"
    elif state is None or state["state"] == "disabled":
        live = "connecting"
    else:
        live = state["state"]
    return {
        "name": row["name"],
        "transport": row["transport"],
        "url": without_credentials(row.get("url")),
        "header_names": sorted(orjson.loads(row.get("headers_encrypted") or "{}")),
        "command": row.get("command"),
        "args": orjson.loads(row.get("args") or "[]"),
        "env_names": sorted(orjson.loads(row.get("env_encrypted") or "{}")),
        "enabled": bool(row["enabled"]),
        "timeout": float(row["call_timeout"]),
        "max_result_bytes": int(row["max_result_bytes"]),
        "state": live,
        "tool_count": int(state["tool_count"]) if state and live == "connected" else 0,
        "last_error": state.get("last_error") if state else None,
        "connected_since": _iso(state.get("connected_since"))
        if state and live == "connected"
        else None,
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _policy_row(row: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    key_id = row.get("key_id")
    return {
        "pattern": row["pattern"],
        "policy": row["policy"],
        "key": names.get(key_id, str(key_id)) if key_id is not None else None,
        "key_id": key_id,
    }


def _public_call(row: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    key_id = row.get("key_id")
    return {
        "id": row["id"],
        "at": _iso(row["at"]),
        "key_id": key_id,
        "key": names.get(key_id) if key_id is not None else None,
        "server": row["server"],
        "tool": row["tool"],
        "decision": row["decision"],
        "outcome": row["outcome"],
        "duration_ms": row["duration_ms"],
        "result_bytes": row["result_bytes"],
        "error": row.get("error"),
        "request_id": row.get("request_id"),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

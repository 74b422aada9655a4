"""The tool hub: every registered upstream MCP server behind one governed entry point.

One `ToolHub` per Runtime. It keeps a session to each enabled server (one
supervisor task each, reconnecting with backoff), knows their tools, resolves
each key's policy for each tool, runs calls within the server's time and size
bounds, and records every call and every refusal in the audit. Frontends reach
it through `lowart.toolruns.ToolAccess`; Admin edits the registry it follows
(`refresh` runs whenever the configuration version moves, so every gateway
process follows the same registry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from lowart.errors import PermissionDenied
from lowart.store import McpServerStore, SecretBox, ToolCallStore, ToolPolicyStore
from lowart.telemetry import Metrics
from lowart.toolhub._audit import AuditWriter
from lowart.toolhub._errors import ToolBlocked, ToolNotFound, ToolUnavailable
from lowart.toolhub._names import exposed_name, split_name
from lowart.toolhub._policies import PolicyBook, Rule, allows, as_policy
from lowart.toolhub._registry import spec_of
from lowart.toolhub._results import failure, outcome_of, short_error
from lowart.toolhub._types import HubTool, Policy, ToolOutcome
from lowart.types import Principal

if TYPE_CHECKING:
    import mcp_types as types

    from lowart.toolhub._connection import Connection

__all__ = ["ToolHub"]

log = logging.getLogger("lowart.toolhub")

_RAN = ("auto", "approved")
_REFUSED = ("blocked", "denied", "expired")


class ToolHub:
    """The live view of the registry: connections, tools, policies, calls and audit."""

    def __init__(
        self,
        servers: McpServerStore,
        policies: ToolPolicyStore,
        calls: ToolCallStore,
        secrets: SecretBox,
        *,
        default_policy: str = "confirm",
        metrics: Metrics | None = None,
        keepalive: float = 15.0,
        is_data_error: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        self._servers = servers
        self._policy_store = policies
        self._secrets = secrets
        self._metrics = metrics or Metrics.disabled()
        self._keepalive = keepalive
        self._default: Policy = as_policy(default_policy)
        self._rules: list[Rule] = []
        self._book = PolicyBook((), self._default)
        self._connections: dict[str, Connection] = {}
        self._listeners: list[Callable[[], None]] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._refresh_lock = asyncio.Lock()
        self._skipped: set[tuple[str, str]] = set()
        self.audit = AuditWriter(calls.write_batch, is_data_error=is_data_error)

    # ---- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Connect every enabled server, each in its own background task (returns at once)."""
        self.audit.start()
        await self.refresh()

    async def close(self) -> None:
        """Stop every supervisor (stdio children end with their sessions), flush the audit."""
        connections, self._connections = list(self._connections.values()), {}
        await asyncio.gather(*(c.stop() for c in connections), return_exceptions=True)
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        await self.audit.close()

    async def refresh(self) -> None:
        """Re-read the registry and the policies and apply them (servers added, changed,
        disabled or removed) without a restart; called when the config version moves."""
        async with self._refresh_lock:
            rows = await self._servers.list()
            rules = [
                Rule(r["pattern"], as_policy(r["policy"]), r["key_id"])
                for r in await self._policy_store.list()
            ]
            changed = rules != self._rules
            self._rules = rules
            self._book = PolicyBook(rules, self._default)
            specs = {row["name"]: spec_of(row, self._secrets) for row in rows}
            for name in [n for n in self._connections if n not in specs]:
                await self._connections.pop(name).stop()
                changed = True
            for name, spec in specs.items():
                current = self._connections.get(name)
                if current is not None and current.spec == spec:
                    continue
                changed = True
                if current is not None:
                    await current.stop()
                # The MCP SDK (~35 MiB, and OpenTelemetry with it) loads only in a
                # gateway that has an upstream server registered.
                from lowart.toolhub._connection import Connection

                connection = Connection(
                    spec,
                    on_change=self._changed,
                    on_state=self._publish_state,
                    keepalive=self._keepalive,
                )
                self._connections[name] = connection
                connection.start()
                self._publish_state(connection)
        if changed:  # not on every configuration change (a key or a model)
            self._changed()

    # ---- what a key may see ---------------------------------------------------------

    def tools_for(
        self, principal: Principal, servers: Sequence[str] | None = None
    ) -> list[HubTool]:
        """The tools this key may see: those of connected servers its allow-list
        admits, minus the ones whose policy is `block` (blocked tools are hidden).
        `servers` narrows the answer to those server names."""
        visible: list[HubTool] = []
        for name, connection in sorted(self._connections.items()):
            if servers is not None and name not in servers:
                continue
            if connection.client is None:
                continue
            for tool in connection.tools.values():
                described = self._describe(principal, name, tool)
                if described is not None and described.policy != "block":
                    visible.append(described)
        return visible

    def resolve(self, principal: Principal, exposed_or_dotted: str) -> HubTool:
        """The tool named `server__tool` or `server.tool`, as this key sees it.

        Raises ToolNotFound (unknown, or not allowed for this key), ToolBlocked,
        or ToolUnavailable (a tool the key may use whose server is not connected)."""
        parts = split_name(exposed_or_dotted)
        if parts is None:
            raise ToolNotFound(f"Unknown tool '{exposed_or_dotted}'.", param="name")
        server, name = parts
        connection = self._connections.get(server)
        if connection is None or not allows(principal.allowed_tools, server, name):
            raise ToolNotFound(f"Unknown tool '{exposed_or_dotted}'.", param="name")
        if connection.client is None:
            if self.policy_for(principal, server, name) == "block":
                raise ToolBlocked(f"Tool {server}.{name} is blocked by policy.")
            raise ToolUnavailable(f"MCP server '{server}' is not connected ({connection.state}).")
        tool = connection.tools.get(name)
        described = self._describe(principal, server, tool) if tool is not None else None
        if described is None:
            raise ToolNotFound(f"Unknown tool '{exposed_or_dotted}'.", param="name")
        if described.policy == "block":
            raise ToolBlocked(f"Tool {described.dotted} is blocked by policy.")
        return described

    def policy_for(self, principal: Principal, server: str, tool: str) -> Policy:
        """The policy for this key: its own rules before the global ones, the most
        specific pattern first, `LOWART_TOOL_DEFAULT_POLICY` when nothing matches."""
        return self._book.policy(principal.key_id, server, tool)

    def waiting_for(self, principal: Principal, server: str) -> bool:
        """True when `server` is registered and enabled and this key's allow-list admits
        tools of it, but it is not connected right now: the caller should hear "try
        again" (503), not "no such server" (404). A key that may use none of its tools
        learns nothing about it."""
        connection = self._connections.get(server)
        if connection is None or connection.state in ("connected", "disabled"):
            return False
        patterns = principal.allowed_tools
        return patterns is None or any(
            fnmatchcase(server, pattern.partition(".")[0]) for pattern in patterns
        )

    def server_url(self, server: str) -> str | None:
        """The registered URL of a streamable HTTP server (None for stdio or unknown):
        what a Responses `server_url` must equal."""
        connection = self._connections.get(server)
        return connection.spec.url if connection is not None else None

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (synchronously, it must be quick) whenever the tools anyone
        may see could have changed: a server connected or dropped, a tool list
        changed, a policy or allow-list changed. Returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def servers(self) -> dict[str, dict[str, Any]]:
        """Each server's live state in this process (name -> state, tools, last error)."""
        return {name: _state_of(c) for name, c in self._connections.items()}

    # ---- calls ----------------------------------------------------------------------

    async def call(
        self,
        principal: Principal,
        tool: HubTool,
        arguments: dict[str, Any],
        *,
        decision: str,
        request_id: str | None = None,
    ) -> ToolOutcome:
        """Run one tool call for `principal`.

        Re-checks the policy and the allow-list (a `block` never runs: it raises
        ToolBlocked and is recorded as refused; a `confirm` runs only as
        "approved"), bounds the call by the server's timeout and result-size cap
        (a timeout or an oversize result becomes an error outcome, never a half
        result), and records an audit row and the metrics. `decision` is how it
        was allowed: "auto", or "approved" (a confirm the caller approved).
        Raises ToolNotFound and ToolUnavailable (server not connected; also
        recorded) before anything runs.
        """
        if decision not in _RAN:
            raise ValueError(f"decision must be one of {_RAN}, not {decision!r}")
        server, name = tool.server, tool.name
        connection = self._connections.get(server)
        if connection is None or not allows(principal.allowed_tools, server, name):
            raise ToolNotFound(f"Unknown tool '{tool.exposed}'.", param="name")
        policy = self.policy_for(principal, server, name)
        if policy == "block":
            self._record(principal, server, name, "blocked", "blocked", request_id)
            raise ToolBlocked(f"Tool {server}.{name} is blocked by policy.")
        if policy == "confirm" and decision != "approved":
            self._record(principal, server, name, "denied", "denied", request_id)
            raise PermissionDenied(
                f"Tool {server}.{name} needs the caller's approval.", code="approval_required"
            )
        client = connection.client
        if client is None or name not in connection.tools:
            self._record(principal, server, name, decision, "unavailable", request_id)
            raise ToolUnavailable(f"MCP server '{server}' is not connected ({connection.state}).")
        outcome = await self._run(connection, name, arguments)
        self._record(
            principal,
            server,
            name,
            decision,
            outcome.outcome,
            request_id,
            duration_ms=outcome.duration_ms,
            result_bytes=outcome.result_bytes,
            error=outcome.error or (outcome.text if outcome.is_error else None),
        )
        return outcome

    async def record_refusal(
        self,
        principal: Principal,
        server: str,
        tool: str,
        *,
        decision: str,
        request_id: str | None = None,
    ) -> None:
        """The audit row of a call that did not run: decision "blocked", "denied"
        (the caller declined a confirm) or "expired" (nobody answered in time)."""
        if decision not in _REFUSED:
            raise ValueError(f"decision must be one of {_REFUSED}, not {decision!r}")
        self._record(principal, server, tool, decision, decision, request_id)

    async def _run(
        self, connection: Connection, name: str, arguments: dict[str, Any]
    ) -> ToolOutcome:
        from mcp.shared.exceptions import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT
        from pydantic import ValidationError

        spec = connection.spec
        client = connection.client
        assert client is not None
        started = time.monotonic()

        def elapsed() -> float:
            return (time.monotonic() - started) * 1000

        timed_out = f"tool call timed out after {spec.call_timeout:g}s"
        try:
            async with asyncio.timeout(spec.call_timeout + 1.0):  # the SDK's own bound is first
                result = await client.call_tool(
                    name, arguments, read_timeout_seconds=spec.call_timeout
                )
        except MCPError as exc:
            if exc.code == REQUEST_TIMEOUT:
                return failure("timeout", timed_out, elapsed())
            if exc.code == CONNECTION_CLOSED:
                connection.broken(exc.message)
                return failure("unavailable", "the MCP server connection closed", elapsed())
            return failure("error", short_error(exc.message, spec.secrets), elapsed())
        except TimeoutError:
            return failure("timeout", timed_out, elapsed())
        except ValidationError:
            return failure("error", "the MCP server sent an invalid result", elapsed())
        except Exception as exc:
            connection.broken(str(exc))
            reason = short_error(f"{type(exc).__name__}: {exc}", spec.secrets)
            log.warning("MCP server %s: tool %s failed: %s", spec.name, name, reason)
            return failure("error", "the MCP server could not be reached", elapsed())
        return outcome_of(result, spec.max_result_bytes, spec.secrets, elapsed())

    # ---- internals ------------------------------------------------------------------

    def _describe(self, principal: Principal, server: str, tool: types.Tool) -> HubTool | None:
        if not allows(principal.allowed_tools, server, tool.name):
            return None
        exposed = exposed_name(server, tool.name)
        if exposed is None:
            if (server, tool.name) not in self._skipped:
                self._skipped.add((server, tool.name))
                log.warning(
                    "MCP server %s: tool %r skipped: '%s__%s' is not a valid function name",
                    server,
                    tool.name[:100],
                    server,
                    tool.name[:100],
                )
            return None
        return HubTool(
            server=server,
            name=tool.name,
            exposed=exposed,
            description=tool.description or "",
            input_schema=dict(tool.input_schema or {"type": "object"}),
            policy=self.policy_for(principal, server, tool.name),
        )

    def _record(
        self,
        principal: Principal,
        server: str,
        tool: str,
        decision: str,
        outcome: str,
        request_id: str | None,
        *,
        duration_ms: float = 0.0,
        result_bytes: int = 0,
        error: str | None = None,
    ) -> None:
        self.audit.submit(
            {
                "at": datetime.now(UTC),
                "key_id": principal.key_id,
                "server": server[:32],
                "tool": tool[:200],
                "decision": decision,
                "outcome": outcome,
                "duration_ms": round(duration_ms, 3),
                "result_bytes": result_bytes,
                "error": error[:300] if error else None,
                "request_id": request_id[:100] if request_id else None,
            }
        )
        ran = outcome not in _REFUSED and outcome != "unavailable"
        self._metrics.tool_call(
            server, tool[:200], decision, outcome, duration_ms / 1000 if ran else None
        )

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a tool-list listener failed")

    def _publish_state(self, connection: Connection) -> None:
        if self._connections.get(connection.spec.name) is not connection:
            return  # replaced or removed: its state is no longer anyone's
        state = _state_of(connection)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._write_state(connection.spec.name, state))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write_state(self, name: str, state: dict[str, Any]) -> None:
        try:
            await self._servers.publish_state(
                name,
                state["state"],
                state["tools"],
                state["last_error"],
                state["connected_since"],
            )
        except Exception:
            log.exception("publishing the state of MCP server %s failed", name)


def _state_of(connection: Connection) -> dict[str, Any]:
    return {
        "state": connection.state,
        "tool_count": len(connection.tools),
        "tools": sorted(connection.tools),
        "last_error": connection.last_error,
        "connected_since": connection.connected_since,
    }

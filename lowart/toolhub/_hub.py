"""The tool hub: every registered upstream MCP server behind one governed entry point.

One `ToolHub` per Runtime. It keeps a session to each enabled server (one
supervisor task each, reconnecting with backoff), knows their tools, resolves
each key's policy for each tool, runs calls within the server's time and size
bounds, and records every call and every refusal in the audit. Frontends reach
it through `lowart.toolruns.ToolAccess`; Admin edits the registry it follows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lowart.toolhub._types import HubTool, Policy, ToolOutcome
from lowart.types import Principal

__all__ = ["ToolHub"]


class ToolHub:
    """The live view of the registry: connections, tools, policies, calls and audit."""

    async def start(self) -> None:
        """Connect every enabled server, each in its own background task (returns at once)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop every supervisor (stdio children die with them) and flush the audit."""
        raise NotImplementedError

    async def refresh(self) -> None:
        """Re-read the registry and the policies and apply them (servers added, changed,
        disabled or removed) without a restart; called when the config version moves."""
        raise NotImplementedError

    def tools_for(
        self, principal: Principal, servers: Sequence[str] | None = None
    ) -> list[HubTool]:
        """The tools this key may see: those of connected servers its allow-list
        admits, minus the ones whose policy is `block` (blocked tools are hidden).
        `servers` narrows the answer to those server names."""
        raise NotImplementedError

    def resolve(self, principal: Principal, exposed_or_dotted: str) -> HubTool:
        """The tool named `server__tool` or `server.tool`, as this key sees it.

        Raises ToolNotFound (unknown, or not allowed for this key) or ToolBlocked."""
        raise NotImplementedError

    def policy_for(self, principal: Principal, server: str, tool: str) -> Policy:
        """The policy for this key: its own rules before the global ones, the most
        specific pattern first, `LOWART_TOOL_DEFAULT_POLICY` when nothing matches."""
        raise NotImplementedError

    def server_url(self, server: str) -> str | None:
        """The registered URL of a streamable HTTP server (None for stdio or unknown):
        what a Responses `server_url` must equal."""
        raise NotImplementedError

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (synchronously, it must be quick) whenever the tools anyone
        may see could have changed: a server connected or dropped, a tool list
        changed, a policy or allow-list changed. Returns the unsubscribe function."""
        raise NotImplementedError

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
        ToolBlocked and is recorded as refused), bounds the call by the server's
        timeout and result-size cap (a timeout or an oversize result becomes an
        error outcome, never a half result), and records an audit row and the
        metrics. `decision` is how it was allowed: "auto", or "approved" (a
        confirm the caller approved). Raises ToolNotFound and ToolUnavailable
        (server not connected; also recorded) before anything runs.
        """
        raise NotImplementedError

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
        raise NotImplementedError

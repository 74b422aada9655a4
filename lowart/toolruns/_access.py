"""`ToolAccess`: the tool hub as the MCP frontend sees it.

A thin facade, so a frontend depends on a few verbs rather than on the hub
(and the hub can change behind it). It adds nothing but naming; every rule
(allow-lists, policies, bounds, audit) stays in the hub.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lowart.toolhub import HubTool, ToolHub, ToolOutcome, split_name
from lowart.types import Principal

__all__ = ["ToolAccess"]


class ToolAccess:
    """Lists, resolves and runs upstream tools for a principal; records refusals."""

    def __init__(self, hub: ToolHub) -> None:
        self._hub = hub

    def tools_for(
        self, principal: Principal, servers: Sequence[str] | None = None
    ) -> list[HubTool]:
        """The upstream tools this key may see (blocked ones hidden)."""
        return self._hub.tools_for(principal, servers)

    def resolve(self, principal: Principal, name: str) -> HubTool:
        """`server__tool` or `server.tool` for this key; raises ToolNotFound / ToolBlocked."""
        return self._hub.resolve(principal, name)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Be told when the visible tools may have changed; returns the unsubscribe."""
        return self._hub.subscribe(listener)

    async def call(
        self,
        principal: Principal,
        tool: HubTool,
        arguments: dict[str, Any],
        *,
        decision: str,
        request_id: str | None = None,
    ) -> ToolOutcome:
        """Run the call (the hub re-checks the policy, bounds and audits it)."""
        return await self._hub.call(
            principal, tool, arguments, decision=decision, request_id=request_id
        )

    async def record_refusal_by_name(
        self,
        principal: Principal,
        name: str,
        *,
        decision: str,
        request_id: str | None = None,
    ) -> None:
        """Audit a refused call known only by its name (`server__tool` or `server.tool`),
        e.g. a blocked tool a client called although it is not listed."""
        parts = split_name(name)
        if parts is not None:
            await self._hub.record_refusal(
                principal, *parts, decision=decision, request_id=request_id
            )

    async def record_refusal(
        self,
        principal: Principal,
        tool: HubTool,
        *,
        decision: str,
        request_id: str | None = None,
    ) -> None:
        """Audit a call that did not run ("blocked", "denied", "expired")."""
        await self._hub.record_refusal(
            principal, tool.server, tool.name, decision=decision, request_id=request_id
        )

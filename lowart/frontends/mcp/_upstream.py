"""Upstream MCP tools on lowart's own MCP server: listed beside lowart's tools, called
under their policies.

The tools a caller's key may see are listed as `server__tool`. Calling one:
`block` is a JSON-RPC error and never runs; `confirm` asks the calling client
first with an elicitation (a yes/no form) and runs only on an explicit yes (a
decline, a cancel, no answer in time or a client without elicitation is a
tool error result saying approval was not given, audited as denied or
expired); `auto` runs. Results pass through (content blocks, isError), already
size-capped and scrubbed by the hub. Sessions that listed tools are told
(`notifications/tools/list_changed`) when what they may see could have changed.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

import mcp_types as types
import orjson
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from lowart.errors import GatewayError
from lowart.frontends.mcp._errors import tool_error
from lowart.toolruns import HubTool, ToolAccess, ToolBlocked, ToolNotFound
from lowart.types import Principal

__all__ = ["UpstreamTools"]

log = logging.getLogger("lowart.mcp")

APPROVAL_SECONDS = 120.0
"""How long a confirm waits for the client's answer before it counts as not given."""
_ARGUMENTS_SHOWN = 2000
_APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {
            "type": "boolean",
            "title": "Run this tool?",
            "description": "Yes runs the tool once with the arguments shown.",
        }
    },
    "required": ["approve"],
}


class UpstreamTools:
    """The upstream half of one MCP server: listing, calling, change notifications."""

    def __init__(self, access: ToolAccess) -> None:
        self._access = access
        self._sessions: weakref.WeakSet[Any] = weakref.WeakSet()
        self._pending: set[asyncio.Task[None]] = set()
        self._unsubscribe = access.subscribe(self._changed)

    def close(self) -> None:
        self._unsubscribe()

    def listed(self, ctx: ServerRequestContext[Any, Any], principal: Principal) -> list[types.Tool]:
        """The upstream tools for this caller; the session is told when they change."""
        # The session object is per request; the connection behind it lives as long as
        # the client's session (the SDK offers no public handle to it).
        connection = getattr(ctx.session, "_connection", None)
        if connection is not None:
            self._sessions.add(connection)
        return [_described(tool) for tool in self._access.tools_for(principal)]

    def knows(self, name: str) -> bool:
        """Whether `name` is shaped like an upstream tool (`server__tool`)."""
        return "__" in name

    async def call(
        self,
        ctx: ServerRequestContext[Any, Any],
        principal: Principal,
        name: str,
        arguments: dict[str, Any],
        request_id: str,
    ) -> types.CallToolResult:
        try:
            tool = self._access.resolve(principal, name)
        except ToolNotFound:
            raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool '{name}'.") from None
        except ToolBlocked as exc:
            await self._access.record_refusal_by_name(
                principal, name, decision="blocked", request_id=request_id
            )
            raise MCPError(code=exc.mcp_code, message=exc.message) from None
        except GatewayError as exc:  # the server is not connected
            return tool_error(exc)
        decision = "auto"
        if tool.policy == "confirm":
            answer = await _ask(ctx, tool, arguments)
            if answer != "approved":
                await self._access.record_refusal(
                    principal, tool, decision=answer, request_id=request_id
                )
                return _not_approved(tool, answer)
            decision = "approved"
        try:
            outcome = await self._access.call(
                principal, tool, arguments, decision=decision, request_id=request_id
            )
        except ToolBlocked as exc:  # the policy changed while the client was asked
            raise MCPError(code=exc.mcp_code, message=exc.message) from None
        except GatewayError as exc:
            return tool_error(exc)
        try:
            content = [_block(item) for item in outcome.content]
        except ValidationError:
            content = [types.TextContent(type="text", text=outcome.text)]
        return types.CallToolResult(content=content, is_error=outcome.is_error)

    def _changed(self) -> None:
        for session in list(self._sessions):
            task = asyncio.get_running_loop().create_task(_notify(session))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)


async def _notify(connection: Any) -> None:
    try:
        await connection.send_tool_list_changed()
    except Exception:  # a session that ended: nothing to tell
        log.debug("tools/list_changed not delivered", exc_info=True)


async def _ask(
    ctx: ServerRequestContext[Any, Any], tool: HubTool, arguments: dict[str, Any]
) -> str:
    """The client's answer: approved, denied (declined, cancelled, or a client that
    cannot be asked) or expired (no answer in time)."""
    capabilities = ctx.session.client_capabilities
    if capabilities is None or capabilities.elicitation is None:
        return "denied"
    shown = orjson.dumps(arguments, option=orjson.OPT_SORT_KEYS).decode()
    if len(shown) > _ARGUMENTS_SHOWN:
        shown = shown[:_ARGUMENTS_SHOWN] + "…"
    message = (
        f"lowart asks before running the tool {tool.server}.{tool.name} "
        f"({tool.description[:200] or 'no description'}) with these arguments: {shown}"
    )
    try:
        async with asyncio.timeout(APPROVAL_SECONDS):
            result = await ctx.session.elicit_form(
                message, _APPROVAL_SCHEMA, related_request_id=ctx.request_id
            )
    except TimeoutError:
        return "expired"
    except Exception:
        log.info("elicitation for %s failed", tool.dotted, exc_info=True)
        return "denied"
    approved = result.action == "accept" and (result.content or {}).get("approve") is True
    return "approved" if approved else "denied"


def _not_approved(tool: HubTool, answer: str) -> types.CallToolResult:
    reason = "no answer came in time" if answer == "expired" else "it was declined"
    text = f"Tool {tool.server}.{tool.name} did not run: approval was not given ({reason})."
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content={"error": {"code": "approval_not_given", "message": text}},
        is_error=True,
    )


def _described(tool: HubTool) -> types.Tool:
    return types.Tool(
        name=tool.exposed,
        description=tool.description,
        input_schema=tool.input_schema,
    )


def _block(item: dict[str, Any]) -> types.ContentBlock:
    return types.CallToolResult.model_validate({"content": [item]}).content[0]

"""The MCP side of the error vocabulary: the one place GatewayErrors become MCP.

A failed tool call is a tool result with `isError` (the agent's model reads the
message and can correct itself, as the specification recommends); a failed
resource read has no such result, so it becomes a JSON-RPC error carrying the
error's `mcp_code`. Anything unexpected is logged here with its traceback and
reaches the client only as a request id to quote.
"""

from __future__ import annotations

import logging

import mcp_types as types
from mcp.shared.exceptions import MCPError

from lowart.errors import GatewayError

__all__ = ["internal_error", "protocol_error", "tool_error"]

log = logging.getLogger("lowart.mcp")


def internal_error(exc: BaseException, request_id: str) -> GatewayError:
    """Log an unexpected failure in full; give the client a message without internals."""
    log.error("MCP request %s failed unexpectedly", request_id, exc_info=exc)
    return GatewayError(f"Internal error. Quote request id {request_id} when reporting it.")


def tool_error(exc: GatewayError) -> types.CallToolResult:
    """A tool result the agent can read: the same message as the HTTP and gRPC APIs give,
    and, like their Retry-After header and trailer, when to try again (whole seconds)."""
    error = {
        "message": exc.message,
        "type": exc.openai_type,
        "code": exc.code,
        "param": exc.param,
        "status": exc.status,
    }
    if exc.retry_after is not None:
        error["retry_after"] = max(1, round(exc.retry_after))
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=exc.message)],
        structured_content={"error": error},
        is_error=True,
    )


def protocol_error(exc: GatewayError) -> MCPError:
    """A JSON-RPC error for requests that have no result shape for failures."""
    return MCPError(code=exc.mcp_code, message=exc.message, data={"code": exc.code})

"""An upstream MCP server for the tool-hub tests, written with the `mcp` SDK's server API.

Run as `python -m tests.support.mcp_upstream stdio` (a stdio server, as an admin
would register one) or `... http PORT` (streamable HTTP on 127.0.0.1:PORT/mcp).
Tools: echo, add, slow (sleeps), fail (isError or raises, with the secret of
its environment in the message), big (a result of N bytes), grow (adds the
tool `extra` and sends notifications/tools/list_changed) and whoami (the
Authorization header it was sent, HTTP only).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

SECRET_ENV = "UPSTREAM_SECRET"

server = MCPServer("upstream-test", version="1.0")


@server.tool(description="Echo the text back.")
def echo(text: str) -> str:
    return f"echo: {text}"


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Sleep for `seconds`, then answer.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(description="Fail: as a tool error result, or by raising.")
def fail(how: str = "error") -> str:
    secret = os.environ.get(SECRET_ENV, "")
    if how == "raise":
        raise RuntimeError(f"exploded with token {secret}")
    raise ToolError(f"failed on purpose; upstream token is {secret}")


@server.tool(description="Answer `size` bytes of text.")
def big(size: int) -> str:
    return "x" * size


@server.tool(description="Delete everything (a tool a policy should block).")
def delete_all() -> str:
    return "deleted everything"


@server.tool(description="Add the tool `extra` and tell the client its tool list changed.")
async def grow(ctx: Context) -> str:
    def extra() -> str:
        return "extra!"

    server.add_tool(extra, name="extra", description="Appeared after grow.")
    await ctx.session.send_tool_list_changed()
    return "grown"


@server.tool(description="The Authorization header this request came with (HTTP).")
def whoami(ctx: Context) -> str:
    request = getattr(ctx.request_context, "request", None)
    headers = getattr(request, "headers", None) or {}
    return str(headers.get("authorization", ""))


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "http":
        import uvicorn

        port = int(sys.argv[2])
        app = server.streamable_http_app()
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()

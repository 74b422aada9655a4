"""`lowart mcp`: the MCP server over stdio, for agents that launch a local process.

The engine runs in this process on the configured database (same keys,
limits, routes and usage records as `lowart serve`); there is no HTTP
listener. stdout carries only MCP messages: logs go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator

from mcp.server.stdio import stdio_server

from lowart.admin import Admin
from lowart.errors import GatewayError
from lowart.frontends.mcp._server import build_server
from lowart.gateway import Gateway
from lowart.toolruns import ToolAccess

__all__ = ["refuse", "serve_stdio"]

log = logging.getLogger("lowart.mcp")


async def serve_stdio(
    gateway: Gateway,
    admin: Admin,
    api_key: str,
    *,
    close_engine: Callable[[], Awaitable[None]],
    grace: float,
    tool_access: ToolAccess | None = None,
) -> int:
    """Serve one MCP client on stdin/stdout until it closes; the exit status.

    `close_engine` is what SIGTERM runs before exiting (see below); the caller
    owns the engine and closes it on every other path.
    """
    try:
        principal = await gateway.authenticate(api_key)
    except GatewayError as exc:
        refuse(f"{exc.message} Give the key in LOWART_API_KEY or with --api-key.")
        return 2
    server = build_server(
        gateway,
        admin,
        lambda _ctx: gateway.authenticate(api_key),
        upstream_tools=tool_access,
    )
    log.info("lowart MCP server on stdio for key '%s'", principal.name)
    with _exit_cleanly_on_sigterm(close_engine, grace):
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    return 0


@contextlib.contextmanager
def _exit_cleanly_on_sigterm(
    close_engine: Callable[[], Awaitable[None]], grace: float
) -> Iterator[None]:
    """An agent host may end its server with SIGTERM without closing stdin first.

    The SDK reads stdin in a worker thread that cancellation cannot interrupt,
    so the serving task cannot unwind; instead the engine is closed here
    (queued usage records written, database released) and the process exits.
    """
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def terminate() -> None:
        log.info("SIGTERM: writing usage records and exiting")
        try:
            await asyncio.wait_for(close_engine(), grace)
        except Exception:
            log.exception("closing the engine on SIGTERM failed")
        finally:
            os._exit(0)

    def on_sigterm() -> None:
        task = loop.create_task(terminate())
        pending.add(task)

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def refuse(message: str) -> None:
    """Say why we cannot start, on stderr: the agent's host shows it to its user."""
    print(f"error: {message}", file=sys.stderr, flush=True)

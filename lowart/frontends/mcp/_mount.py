"""/mcp on the HTTP listener, with the MCP SDK loaded on first use.

The SDK and what it pulls in (pydantic, starlette, anyio streams) cost about
35 MiB per process; a gateway whose clients never speak MCP should not pay it.
The first /mcp request imports it in a worker thread, so the event loop keeps
serving while it loads.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from lowart.admin import Admin
from lowart.config import Settings
from lowart.gateway import Gateway
from lowart.toolruns import ToolAccess

__all__ = ["MCP_PATH", "mount_mcp"]

MCP_PATH = "/mcp"


class _LazyEndpoint:
    def __init__(
        self, gateway: Gateway, admin: Admin, settings: Settings, tools: ToolAccess | None
    ) -> None:
        self._services = (gateway, admin, settings, tools)
        self._endpoint: Any = None
        self._starting = asyncio.Lock()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._endpoint or await self._start()
        response: web.StreamResponse = await endpoint.handle(request)
        return response

    async def _start(self) -> Any:
        async with self._starting:
            if self._endpoint is None:
                module = await asyncio.to_thread(
                    importlib.import_module, "lowart.frontends.mcp._http"
                )
                endpoint = module.McpHttpEndpoint(*self._services)
                await endpoint.start()
                self._endpoint = endpoint
        return self._endpoint

    def end_streams(self) -> None:
        if self._endpoint is not None:
            self._endpoint.end_streams()

    async def stop(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.stop()


def mount_mcp(
    gateway: Gateway,
    admin: Admin,
    settings: Settings,
    app: web.Application,
    *,
    tools: ToolAccess | None = None,
) -> None:
    """Serve MCP at /mcp on this application, its sessions tied to the app's lifetime;
    `tools` adds the upstream MCP tools each caller's key may use.

    Called by the composition root as one of the HTTP listener's extensions."""
    endpoint = _LazyEndpoint(gateway, admin, settings, tools)

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        yield
        await endpoint.stop()

    async def on_shutdown(_app: web.Application) -> None:
        endpoint.end_streams()

    app.cleanup_ctx.append(lifetime)
    app.on_shutdown.append(on_shutdown)
    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, MCP_PATH, endpoint.handle)

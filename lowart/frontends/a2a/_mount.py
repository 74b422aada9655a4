"""A2A on the HTTP listener, with the a2a SDK loaded on first use.

The SDK and what it pulls in (protobuf types, pydantic, starlette, grpcio) cost
tens of MiB per process; a gateway whose clients never speak A2A should not pay
it. The first request under /a2a or for a card imports it in a worker thread,
so the event loop keeps serving while it loads.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from lowart.frontends.a2a._paths import A2A_PATH, AGENT_CARD_PATH

if TYPE_CHECKING:
    from lowart.frontends.a2a._service import A2aAgents

__all__ = ["mount_a2a"]


class _LazyEndpoint:
    def __init__(self, agents: Callable[[], A2aAgents | None]) -> None:
        self._agents = agents
        self._endpoint: Any = None
        self._starting = asyncio.Lock()

    async def _start(self) -> Any:
        async with self._starting:
            if self._endpoint is None:
                module = await asyncio.to_thread(
                    importlib.import_module, "lowart.frontends.a2a._http"
                )
                self._endpoint = module.A2aHttpEndpoint(self._agents())
        return self._endpoint

    async def gateway_card(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._endpoint or await self._start()
        response: web.StreamResponse = await endpoint.gateway_card(request)
        return response

    async def route_card(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._endpoint or await self._start()
        response: web.StreamResponse = await endpoint.route_card(request)
        return response

    async def serve(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._endpoint or await self._start()
        response: web.StreamResponse = await endpoint.serve(request)
        return response

    def end_streams(self) -> None:
        if self._endpoint is not None:
            self._endpoint.end_streams()


def mount_a2a(agents: Callable[[], A2aAgents | None], app: web.Application) -> None:
    """Serve A2A on this application (called by the composition root as an extension).

    `agents` builds (once) the process's A2A agents, shared with the gRPC binding."""
    endpoint = _LazyEndpoint(agents)

    async def on_shutdown(_app: web.Application) -> None:
        endpoint.end_streams()

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        yield
        endpoint.end_streams()

    app.on_shutdown.append(on_shutdown)
    app.cleanup_ctx.append(lifetime)
    router = app.router
    router.add_get(AGENT_CARD_PATH, endpoint.gateway_card)
    router.add_get(f"{A2A_PATH}{AGENT_CARD_PATH}", endpoint.gateway_card)
    router.add_get(f"{A2A_PATH}/{{model}}{AGENT_CARD_PATH}", endpoint.route_card)
    router.add_post(A2A_PATH, endpoint.serve)
    router.add_post(f"{A2A_PATH}/{{model}}", endpoint.serve)
    router.add_route("*", f"{A2A_PATH}/{{model}}/{{tail:.*}}", endpoint.serve)

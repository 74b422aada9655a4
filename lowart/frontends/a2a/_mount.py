"""A2A on the HTTP listener: the cards and the JSON-RPC and REST bindings."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from lowart.frontends.a2a._cards import A2A_PATH
from lowart.frontends.a2a._http import A2aHttpEndpoint
from lowart.frontends.a2a._service import A2aAgents

__all__ = ["AGENT_CARD_PATH", "mount_a2a"]

AGENT_CARD_PATH = "/.well-known/agent-card.json"


def mount_a2a(agents: A2aAgents, app: web.Application) -> None:
    """Serve A2A on this application (called by the composition root as an extension)."""
    endpoint = A2aHttpEndpoint(agents)

    async def on_shutdown(_app: web.Application) -> None:
        endpoint.end_streams()

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        yield
        endpoint.end_streams()

    app.on_shutdown.append(on_shutdown)
    app.cleanup_ctx.append(lifetime)
    router = app.router
    router.add_get(AGENT_CARD_PATH, endpoint.gateway_card)
    router.add_get(f"{A2A_PATH}/{{model}}{AGENT_CARD_PATH}", endpoint.route_card)
    router.add_post(A2A_PATH, endpoint.serve)
    router.add_post(f"{A2A_PATH}/{{model}}", endpoint.serve)
    router.add_route("*", f"{A2A_PATH}/{{model}}/{{tail:.*}}", endpoint.serve)

"""OpenAI-compatible endpoints: /v1/chat/completions, /v1/embeddings, /v1/models, /health."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lowart.errors import GatewayError, ModelNotFound
from lowart.frontends._web import call_context, presented_key, read_json
from lowart.frontends.http._sse import relay_openai_stream
from lowart.frontends.http._state import GATEWAY
from lowart.frontends.http._tool_chat import chat_with_tools, has_mcp_tools
from lowart.frontends.http._tool_confirm import tool_loop
from lowart.gateway import Gateway
from lowart.types import Principal, Route

__all__ = ["routes"]

routes = web.RouteTableDef()


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


@routes.get("/health")
async def health(_request: web.Request) -> web.Response:
    return _json({"status": "ok"})


@routes.post("/v1/chat/completions")
async def chat_completions(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    ctx = call_context(request)
    principal = await gateway.authenticate(presented_key(request))
    body = await read_json(request)
    if has_mcp_tools(body):
        return await chat_with_tools(request, tool_loop(request), principal, body, ctx)
    if isinstance(body, dict) and body.get("stream"):
        stream = await gateway.open_stream(principal, body, ctx)
        return await relay_openai_stream(request, stream, ctx.request_id)
    return _json(await gateway.complete(principal, body, ctx))


@routes.post("/v1/embeddings")
async def embeddings(request: web.Request) -> web.Response:
    """Embeddings (usage recorded with interface `embeddings`)."""
    gateway = request.app[GATEWAY]
    ctx = call_context(request)
    ctx.speaking("embeddings")
    principal = await gateway.authenticate(presented_key(request))
    return _json(await gateway.embed(principal, await read_json(request), ctx))


def _model_object(
    gateway: Gateway, route: Route, aliases: dict[str, list[str]], name: str | None = None
) -> dict[str, Any]:
    """OpenAI's model object, plus what lowart knows: the route's kind (chat, embedding,
    image) and the alias patterns that resolve to it."""
    found = {
        "id": name or route.name,
        "object": "model",
        "created": 0,
        "owned_by": route.vendor,
        "kind": gateway.model_kind(route),
        "aliases": aliases.get(route.name, []),
    }
    if name is not None and name != route.name:
        found["alias_for"] = route.name
    return found


@routes.get("/v1/models")
async def list_models(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    aliases = gateway.aliases_for(principal)
    return _json(
        {
            "object": "list",
            "data": [_model_object(gateway, r, aliases) for r in gateway.models_for(principal)],
        }
    )


@routes.get("/v1/models/{name:.+}")
async def get_model(request: web.Request) -> web.Response:
    """A route by its name or by a name an alias resolves (shown as that name)."""
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    name = request.match_info["name"]
    route = _visible_route(gateway, principal, name)
    return _json(_model_object(gateway, route, gateway.aliases_for(principal), name))


def _visible_route(gateway: Gateway, principal: Principal, name: str) -> Route:
    try:
        return gateway.route_for(principal, name)
    except GatewayError as exc:  # a model this key may not use does not exist for it
        raise ModelNotFound(f"The model '{name}' does not exist.", param="model") from exc

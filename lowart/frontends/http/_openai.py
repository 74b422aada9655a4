"""OpenAI-compatible endpoints: /v1/chat/completions, /v1/models, /health."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lowart.errors import ModelNotFound
from lowart.frontends._web import call_context, presented_key, read_json
from lowart.frontends.http._sse import relay_openai_stream
from lowart.frontends.http._state import GATEWAY
from lowart.types import Route

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
    if isinstance(body, dict) and body.get("stream"):
        stream = await gateway.open_stream(principal, body, ctx)
        return await relay_openai_stream(request, stream, ctx.request_id)
    return _json(await gateway.complete(principal, body, ctx))


def _model_object(route: Route) -> dict[str, Any]:
    return {"id": route.name, "object": "model", "created": 0, "owned_by": route.vendor}


@routes.get("/v1/models")
async def list_models(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    return _json(
        {"object": "list", "data": [_model_object(r) for r in gateway.models_for(principal)]}
    )


@routes.get("/v1/models/{name:.+}")
async def get_model(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    name = request.match_info["name"]
    for route in gateway.models_for(principal):
        if route.name == name:
            return _json(_model_object(route))
    raise ModelNotFound(f"The model '{name}' does not exist.", param="model")

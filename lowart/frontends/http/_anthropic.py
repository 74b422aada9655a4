"""Anthropic's Messages API: POST /v1/messages and /v1/messages/count_tokens.

The official `anthropic` SDK works unchanged against any route. The body is
translated once to the canonical request for the Gateway (which does auth,
limits, routing and usage as for every caller); it also travels as
`ctx.passthrough`, so an Anthropic route sends it upstream as is and hands
back the upstream's own reply, while other routes are translated. Errors use
Anthropic's envelope (the handlers are marked `speaks(ANTHROPIC)`).

As real clients need: `role: "system"` messages are folded into the system
prompt first (for every route), and an unknown model is a 404
`not_found_error` before the body's shape is judged.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lowart.errors import NotFound
from lowart.frontends._web import ANTHROPIC, call_context, presented_key, read_json, speaks
from lowart.frontends.http._anthropic_sse import relay_anthropic_stream
from lowart.frontends.http._state import GATEWAY
from lowart.translate import (
    anthropic_request_to_openai,
    fold_system_messages,
    openai_response_to_anthropic,
)
from lowart.types import ChatResponse, Passthrough

__all__ = ["routes"]

routes = web.RouteTableDef()


def _json(payload: object) -> web.Response:
    return web.Response(body=orjson.dumps(payload), content_type="application/json")


@routes.post("/v1/messages")
@speaks(ANTHROPIC)
async def messages(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    ctx = call_context(request)
    ctx.speaking("anthropic")
    principal = await gateway.authenticate(presented_key(request))
    body = fold_system_messages(await read_json(request))
    gateway.check_model(principal, body)  # an unknown model: 404 before any 400
    canonical = anthropic_request_to_openai(body)
    ctx.speaking("anthropic", _passthrough(request, body))
    if canonical.get("stream"):
        # message_delta must carry the usage, whatever the route's vendor
        canonical["stream_options"] = {"include_usage": True}
        stream = await gateway.open_stream(principal, canonical, ctx)
        return await relay_anthropic_stream(request, stream, ctx.request_id)
    return _json(_message_reply(await gateway.complete(principal, canonical, ctx)))


def _passthrough(request: web.Request, body: dict[str, Any]) -> Passthrough:
    """Beta features need their `anthropic-beta` header upstream as well as their fields."""
    beta = request.headers.get("anthropic-beta")
    return Passthrough("anthropic", body, {"anthropic-beta": beta} if beta else {})


def _message_reply(response: ChatResponse) -> dict[str, Any]:
    native = response.pop("lowart_anthropic_message", None)
    if native is None:
        return openai_response_to_anthropic(response)
    return {**native, "model": response["model"]}


@routes.post("/v1/messages/count_tokens")
@speaks(ANTHROPIC)
async def count_tokens(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    ctx = call_context(request)
    ctx.speaking("anthropic")
    principal = await gateway.authenticate(presented_key(request))
    body = fold_system_messages(await read_json(request))
    gateway.check_model(principal, body)
    canonical = anthropic_request_to_openai(body, require_max_tokens=False)
    ctx.speaking("anthropic", _passthrough(request, body))
    return _json({"input_tokens": await gateway.count_tokens(principal, canonical, ctx)})


@routes.route("*", "/v1/messages/{rest:.+}")
@speaks(ANTHROPIC)
async def unknown_messages_path(request: web.Request) -> web.Response:
    """Anthropic clients get Anthropic's envelope for paths lowart does not serve
    (e.g. the Message Batches API), not OpenAI's."""
    raise NotFound(f"Unknown path {request.path}.", code="unknown_url")

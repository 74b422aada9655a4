"""POST /v1/tools/confirm: the client's answer to a tool loop paused on `confirm`.

Body: `{"session_id": ..., "approve": [call ids], "deny": [call ids], "stream"?: bool}`;
calls in neither list are denied. The session belongs to the key that started
it (another key's: 404), continues once (409 after that) and expires after
LOWART_TOOL_APPROVAL_TTL (410: its calls never ran). The answer is the
continued chat completion (or its stream); for a paused Responses API request
(`session_id` = the Response's id) it is the next Response.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lowart.errors import InvalidRequest, NotFound
from lowart.frontends._web import call_context, presented_key, read_json
from lowart.frontends.http._state import GATEWAY, TOOL_LOOP
from lowart.frontends.http._tool_chat import reply_chat
from lowart.frontends.http._tool_responses import continue_responses
from lowart.toolruns import ToolLoop

__all__ = ["routes", "tool_loop"]

routes = web.RouteTableDef()

_MAX_IDS = 256


def tool_loop(request: web.Request) -> ToolLoop:
    loop = request.app.get(TOOL_LOOP)
    if loop is None:
        raise NotFound("MCP tools are not enabled on this gateway.", code="tools_disabled")
    return loop


def _ids(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if (
        not isinstance(value, list)
        or len(value) > _MAX_IDS
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise InvalidRequest(
            f"'{name}' must be an array of call ids (at most {_MAX_IDS}).", param=name
        )
    return value


@routes.post("/v1/tools/confirm")
async def confirm(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    loop = tool_loop(request)
    ctx = call_context(request)
    principal = await gateway.authenticate(presented_key(request))
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise InvalidRequest("'session_id' is required.", param="session_id")
    approve, deny = _ids(body, "approve"), _ids(body, "deny")
    stream = body.get("stream") is True
    resumed = await loop.claim(principal, session_id, approve, deny, ctx.request_id)
    if resumed.request.kind == "responses":
        ctx.speaking("responses")
        return await continue_responses(
            request, gateway, loop, principal, resumed, approve, ctx, stream=stream
        )
    events = loop.resume(principal, resumed, set(approve), ctx, stream=stream)
    model = str(resumed.request.params.get("model"))
    include_usage = bool(resumed.request.extra.get("include_usage"))
    return await reply_chat(request, events, model, ctx, stream, include_usage)

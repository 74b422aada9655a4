"""OpenAI's Responses API: POST /v1/responses and the stored responses' endpoints.

A thin frontend like the others: the request is translated once to the
canonical chat request (`lowart.translate`) and run by the Gateway, which does
keys, limits, routing, transforms and the one usage record (interface
`responses`). The body also travels as `ctx.passthrough`, so an openai route
with the option `responses=native` sends it to the upstream's own
`/responses`. Responses are kept per key (`store`, default true) for
`previous_response_id`, GET, DELETE and `input_items`; `background: true` runs
the work in this process and answers at once with the queued Response.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from lowart.errors import GatewayError, InvalidRequest, UpstreamError
from lowart.frontends._web import call_context, presented_key, read_json
from lowart.frontends.http._responses_sse import ResponseEvents, relay_responses_stream
from lowart.frontends.http._responses_turn import Turn
from lowart.frontends.http._state import GATEWAY
from lowart.frontends.http._tool_confirm import tool_loop
from lowart.frontends.http._tool_responses import has_mcp_items, responses_with_tools
from lowart.gateway import Gateway
from lowart.types import CallContext, Principal

__all__ = ["routes"]

routes = web.RouteTableDef()

_MAX_LIST = 100


def _json(payload: object) -> web.Response:
    return web.Response(body=orjson.dumps(payload), content_type="application/json")


@routes.post("/v1/responses")
async def create_response(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY]
    ctx = call_context(request)
    ctx.speaking("responses")
    principal = await gateway.authenticate(presented_key(request))
    body = await read_json(request)
    if has_mcp_items(body):
        loop = tool_loop(request)
        return await responses_with_tools(request, gateway, loop, principal, body, ctx)
    turn = await Turn.begin(gateway, principal, body)
    ctx.speaking("responses", turn.passthrough())

    async def save(response: dict[str, Any]) -> None:
        await gateway.store_response(principal, response, turn.items)

    if turn.body.get("background"):
        if turn.chat.get("stream"):
            raise InvalidRequest(
                "'background' with 'stream' is not supported; poll the response instead.",
                param="stream",
            )
        return _json(await _start_background(gateway, principal, turn, ctx))
    if turn.chat.get("stream"):
        turn.chat["stream_options"] = {"include_usage": True}  # the final event carries usage
        stream = await gateway.open_stream(principal, turn.chat, ctx)
        return await relay_responses_stream(
            request, stream, turn, ctx.request_id, save if turn.store else None
        )
    response = turn.completed(await gateway.complete(principal, turn.chat, ctx))
    if turn.store:
        await save(response)
    return _json(response)


async def _start_background(
    gateway: Gateway, principal: Principal, turn: Turn, ctx: CallContext
) -> dict[str, Any]:
    """Store the queued Response and run it in this process; the caller polls it."""
    queued = turn.snapshot(status="queued")
    await gateway.store_response(principal, queued, turn.items)
    detached = CallContext(
        request_id=ctx.request_id, interface=ctx.interface, passthrough=ctx.passthrough
    )

    async def run() -> None:
        await _run_background(gateway, principal, turn, detached)

    gateway.run_in_background(principal, turn.id, run)
    return queued


async def _run_background(
    gateway: Gateway, principal: Principal, turn: Turn, ctx: CallContext
) -> None:
    """The Response's work, streamed internally so a cancel records the tokens so far;
    its state is written when it starts and when it ends, however it ends."""

    async def save(response: dict[str, Any]) -> None:
        await gateway.store_response(principal, response, turn.items)

    await save(turn.snapshot(status="in_progress"))
    turn.chat["stream"] = True
    turn.chat["stream_options"] = {"include_usage": True}
    events: ResponseEvents | None = None
    try:
        stream = await gateway.open_stream(principal, turn.chat, ctx)
        async with stream:
            events = ResponseEvents(turn, stream.route.name)
            async for chunk in stream:
                events.feed(chunk)
            events.finish()
    except GatewayError as exc:
        final = events.fail(exc)[-1]["response"] if events else turn.failed(exc)
        await save(final)
        return
    except asyncio.CancelledError:
        output = events.writer.output if events else []
        await asyncio.shield(save(turn.snapshot(status="cancelled", output=output)))
        raise
    ended = UpstreamError(f"Upstream for model '{turn.model}' ended the stream early.")
    await save(events.final if events.final is not None else turn.failed(ended))


def _response_id(request: web.Request) -> str:
    return request.match_info["response_id"]


@routes.get("/v1/responses/{response_id}")
async def get_response(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    response, _ = await gateway.stored_response(principal, _response_id(request))
    return _json(response)


@routes.delete("/v1/responses/{response_id}")
async def delete_response(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    response_id = _response_id(request)
    await gateway.delete_response(principal, response_id)
    return _json({"id": response_id, "object": "response.deleted", "deleted": True})


@routes.post("/v1/responses/{response_id}/cancel")
async def cancel_response(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    return _json(await gateway.cancel_response(principal, _response_id(request)))


@routes.get("/v1/responses/{response_id}/input_items")
async def list_input_items(request: web.Request) -> web.Response:
    """The conversation's input items, newest first by default, a page at a time."""
    gateway = request.app[GATEWAY]
    principal = await gateway.authenticate(presented_key(request))
    _, items = await gateway.stored_response(principal, _response_id(request))
    query = request.query
    limit = _limit(query.get("limit"))
    ordered = items if query.get("order") == "asc" else list(reversed(items))
    start = 0
    cursor = query.get("after")
    if cursor:
        ids = [item.get("id") for item in ordered]
        if cursor not in ids:
            raise InvalidRequest(f"No input item with id '{cursor[:64]}'.", param="after")
        start = ids.index(cursor) + 1
    page = ordered[start : start + limit]
    return _json(
        {
            "object": "list",
            "data": page,
            "first_id": page[0].get("id") if page else None,
            "last_id": page[-1].get("id") if page else None,
            "has_more": start + limit < len(ordered),
        }
    )


def _limit(value: str | None) -> int:
    if value is None:
        return 20
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= _MAX_LIST:
        raise InvalidRequest(f"'limit' must be between 1 and {_MAX_LIST}.", param="limit")
    return limit

"""Responses API requests with `{"type": "mcp"}` tools: the tool loop, in Responses' shapes.

Output items as OpenAI writes them: one `mcp_list_tools` per server (the tools
offered), an `mcp_call` per call (`output`, or `error`; `approval_request_id`
when the client approved or denied it), `mcp_approval_request` for each call a
`confirm` policy holds, the model's messages, and `function_call` items for the
client's own tools. Streamed, each has its events
(`response.mcp_list_tools.in_progress/completed`, `response.mcp_call_arguments.
delta/done`, `response.mcp_call.in_progress`, `response.mcp_call.completed/
failed`) between `output_item.added` and `output_item.done`. A paused Response
is `completed` with its approval requests; the client continues with a new
request (`previous_response_id` = the paused Response's id, input items
`mcp_approval_response`) or `POST /v1/tools/confirm` with that id. A bound that
ends the loop makes the Response `incomplete` (`incomplete_details.reason`
"max_tool_steps" or "max_tool_seconds").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from lowart.errors import GatewayError, InvalidRequest
from lowart.frontends.http._coalesce import CLIENT_GONE, EventSender
from lowart.frontends.http._responses_turn import Turn
from lowart.frontends.http._sse import event_stream_response
from lowart.gateway import Gateway
from lowart.toolruns import (
    Finished,
    LoopEvent,
    LoopRequest,
    Paused,
    Resumed,
    TextDelta,
    ToolEnded,
    ToolLoop,
    ToolRun,
    ToolSessionNotFound,
    ToolsListed,
    ToolStarted,
    mcp_specs,
)
from lowart.translate import ChatToResponsesEvents, chat_usage_to_responses, new_id
from lowart.types import CallContext, Principal

__all__ = [
    "approval_answers",
    "continue_responses",
    "has_mcp_items",
    "responses_with_tools",
]

log = logging.getLogger("lowart.http")

_NOT_FORWARDED = ("messages", "tools", "stream", "stream_options")
_STOPPED = {"max_steps": "max_tool_steps", "max_seconds": "max_tool_seconds"}
_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

Save = Callable[[dict[str, Any]], Awaitable[None]]


def has_mcp_items(body: Any) -> bool:
    """Whether a Responses body gives MCP tools or answers approval requests."""
    if not isinstance(body, dict):
        return False
    tools, items = body.get("tools"), body.get("input")
    return (
        isinstance(tools, list)
        and any(isinstance(t, dict) and t.get("type") == "mcp" for t in tools)
    ) or (
        isinstance(items, list)
        and any(isinstance(i, dict) and i.get("type") == "mcp_approval_response" for i in items)
    )


def approval_answers(items: list[Any]) -> tuple[list[str], list[str]]:
    """(approved, denied) approval request ids of `mcp_approval_response` items."""
    approve: list[str] = []
    deny: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("type") != "mcp_approval_response":
            raise InvalidRequest(
                "A request answering MCP approval requests holds only "
                "'mcp_approval_response' items.",
                param=f"input[{index}]",
            )
        request_id = item.get("approval_request_id")
        if not isinstance(request_id, str) or not request_id:
            raise InvalidRequest(
                f"'input[{index}].approval_request_id' is required.",
                param=f"input[{index}].approval_request_id",
            )
        (approve if item.get("approve") is True else deny).append(request_id)
    return approve, deny


async def responses_with_tools(
    request: web.Request,
    gateway: Gateway,
    loop: ToolLoop,
    principal: Principal,
    body: dict[str, Any],
    ctx: CallContext,
) -> web.StreamResponse:
    """A new Response whose model gets MCP tools, or the answer to a paused one."""
    if body.get("background"):
        raise InvalidRequest(
            "'background' is not supported with MCP tools; stream the response instead.",
            param="background",
        )
    items = body.get("input")
    if isinstance(items, list) and any(
        isinstance(i, dict) and i.get("type") == "mcp_approval_response" for i in items
    ):
        previous = body.get("previous_response_id")
        if not isinstance(previous, str) or not previous:
            raise InvalidRequest(
                "Answering MCP approval requests needs 'previous_response_id' (the paused "
                "response).",
                param="previous_response_id",
            )
        if not previous.startswith("resp_"):  # a chat's session continues as a chat
            raise ToolSessionNotFound(f"No paused response '{previous[:64]}'.")
        approve, deny = approval_answers(items)
        resumed = await loop.claim(principal, previous, approve, deny, ctx.request_id)
        return await continue_responses(
            request,
            gateway,
            loop,
            principal,
            resumed,
            approve,
            ctx,
            stream=bool(body.get("stream")),
        )
    turn = await Turn.begin(gateway, principal, body)
    specs, _ = mcp_specs(body.get("tools"))
    plan = loop.plan(principal, specs)  # 400/403/404 before any model call
    chat = turn.chat
    run = LoopRequest(
        kind="responses",
        params={k: v for k, v in chat.items() if k not in _NOT_FORWARDED},
        messages=chat["messages"],
        specs=specs,
        client_tools=list(chat.get("tools") or ()),
        stream=bool(chat.get("stream")),
        extra={"body": {k: v for k, v in body.items() if k != "input"}, "items": turn.items},
        session_id=turn.id,
    )
    events = loop.run(principal, run, plan, ctx)
    return await _reply(request, gateway, principal, turn, events, ctx, run.stream)


async def continue_responses(
    request: web.Request,
    gateway: Gateway,
    loop: ToolLoop,
    principal: Principal,
    resumed: Resumed,
    approve: list[str],
    ctx: CallContext,
    *,
    stream: bool,
) -> web.StreamResponse:
    """The Response that goes on from a paused one (a new id, its own output)."""
    extra = resumed.request.extra
    body = {
        **(extra.get("body") or {}),
        "previous_response_id": resumed.session_id,
        "stream": stream,
        "input": [],
    }
    answers = [
        {
            "id": new_id("mcpr"),
            "type": "mcp_approval_response",
            "approval_request_id": call.id,
            "approve": call.id in approve,
        }
        for call in resumed.pending
    ]
    requests = [
        _approval_item(call.id, call.server, call.tool, call.arguments) for call in resumed.pending
    ]
    turn = Turn(body, [], translate=False)
    if turn.store:
        turn.items = [*(extra.get("items") or ()), *requests, *answers]
    events = loop.resume(principal, resumed, set(approve), ctx, stream=stream)
    return await _reply(request, gateway, principal, turn, events, ctx, stream)


def _approval_item(item_id: str, server: str, tool: str, arguments: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "mcp_approval_request",
        "server_label": server,
        "name": tool,
        "arguments": arguments,
    }


class _ResponsesEncoder:
    """Loop events in, Responses events out; `final` is the Response once it ended."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.writer = ChatToResponsesEvents(turn.snapshot, turn.names)
        self.final: dict[str, Any] | None = None
        self._calls: dict[str, tuple[int, str]] = {}

    def start(self) -> list[dict[str, Any]]:
        return self.writer.start()

    def take(self, event: LoopEvent) -> list[dict[str, Any]]:
        writer = self.writer
        if isinstance(event, TextDelta):
            return writer.feed({"choices": [{"index": 0, "delta": {"content": event.text}}]})
        if isinstance(event, ToolsListed):
            return self._listed(event)
        if isinstance(event, ToolStarted):
            return self._started(event.run)
        if isinstance(event, ToolEnded):
            return self._ended(event.run)
        if isinstance(event, Paused):
            events: list[dict[str, Any]] = []
            for call in event.calls:
                item = _approval_item(call.id, call.server, call.tool, call.arguments)
                index, added = writer.open_item(item)
                events += added + writer.done_item(index, item)
            return events + self._finish(event.model, event.usage, None)
        return self._finished(event)

    def _listed(self, event: ToolsListed) -> list[dict[str, Any]]:
        writer = self.writer
        item_id = new_id("mcpl")
        tools = [
            {
                "name": t.name,
                "description": t.description,
                "input_schema": t.input_schema,
                "annotations": None,
            }
            for t in event.tools
        ]
        item = {"id": item_id, "type": "mcp_list_tools", "server_label": event.server}
        index, events = writer.open_item({**item, "tools": []})
        for kind in ("response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed"):
            events.append(writer.event(kind, item_id=item_id, output_index=index))
        return events + writer.done_item(index, {**item, "tools": tools, "error": None})

    def _call_item(self, run: ToolRun, item_id: str) -> dict[str, Any]:
        done = run.status != "in_progress"
        error: dict[str, Any] | None = None
        if run.status == "failed" and run.output:
            error = {
                "type": "mcp_tool_execution_error",
                "content": [{"type": "text", "text": run.output}],
            }
        elif done and run.status != "completed":
            error = {"type": "mcp_protocol_error", "code": -32003, "message": run.error or ""}
        return {
            "id": item_id,
            "type": "mcp_call",
            "server_label": run.server,
            "name": run.tool,
            "arguments": run.arguments if done else "",
            "output": run.output if run.status == "completed" else None,
            "error": error,
            "status": ("completed" if run.status == "completed" else "failed")
            if done
            else "in_progress",
            "approval_request_id": run.approval_request_id,
        }

    def _started(self, run: ToolRun) -> list[dict[str, Any]]:
        writer = self.writer
        item_id = new_id("mcp")
        index, events = writer.open_item(self._call_item(run, item_id))
        self._calls[run.id] = (index, item_id)
        where = {"item_id": item_id, "output_index": index}
        events.append(
            writer.event("response.mcp_call_arguments.delta", delta=run.arguments, **where)
        )
        events.append(
            writer.event("response.mcp_call_arguments.done", arguments=run.arguments, **where)
        )
        events.append(writer.event("response.mcp_call.in_progress", **where))
        return events

    def _ended(self, run: ToolRun) -> list[dict[str, Any]]:
        writer = self.writer
        index, item_id = self._calls[run.id]
        ok = run.status == "completed"
        kind = "response.mcp_call.completed" if ok else "response.mcp_call.failed"
        events = [writer.event(kind, item_id=item_id, output_index=index)]
        return events + writer.done_item(index, self._call_item(run, item_id))

    def _finished(self, end: Finished) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for position, call in enumerate(end.client_calls):  # the client's own tools
            delta = {"tool_calls": [{"index": position, **call}]}
            events += self.writer.feed({"choices": [{"index": 0, "delta": delta}]})
        incomplete = _STOPPED.get(end.stopped or "")
        if incomplete is None and end.finish_reason == "length":
            incomplete = "max_output_tokens"
        return events + self._finish(end.model, end.usage, incomplete)

    def _finish(
        self, model: str, usage: dict[str, int], incomplete: str | None
    ) -> list[dict[str, Any]]:
        self.turn.model = model or self.turn.model
        events = self.writer.finish(chat_usage_to_responses(usage), incomplete)
        self.final = events[-1]["response"]
        return events

    def fail(self, exc: GatewayError) -> list[dict[str, Any]]:
        self.final = self.turn.failed(exc, self.writer.output)
        error = {
            "type": "error",
            "code": exc.code,
            "message": exc.message,
            "param": exc.param,
            "sequence_number": self.writer.next_sequence(),
        }
        failed = {
            "type": "response.failed",
            "sequence_number": self.writer.next_sequence(),
            "response": self.final,
        }
        return [error, failed]


async def _reply(
    request: web.Request,
    gateway: Gateway,
    principal: Principal,
    turn: Turn,
    events: AsyncIterator[LoopEvent],
    ctx: CallContext,
    stream: bool,
) -> web.StreamResponse:
    encoder = _ResponsesEncoder(turn)

    async def save(response: dict[str, Any]) -> None:
        if turn.store:
            await gateway.store_response(principal, response, turn.items)

    if not stream:
        async for event in events:
            encoder.take(event)
        assert encoder.final is not None
        await save(encoder.final)
        return web.Response(body=orjson.dumps(encoder.final), content_type="application/json")
    return await _relay(request, encoder, events, save, ctx.request_id)


def _frame(event: dict[str, Any]) -> bytes:
    return (
        b"event: " + str(event.get("type")).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
    )


async def _relay(
    request: web.Request,
    encoder: _ResponsesEncoder,
    events: AsyncIterator[LoopEvent],
    save: Save,
    request_id: str,
) -> web.StreamResponse:
    """Stream the Response; the first model step is awaited before the status line (a
    refusal is still an error status) and the final Response is stored before its event."""
    first = encoder.start()
    try:
        while True:
            event = await anext(events)
            first += encoder.take(event)
            if not isinstance(event, ToolsListed):
                break
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    response = event_stream_response(request_id)
    sender = EventSender(response)

    async def add(batch: list[dict[str, Any]]) -> bool:
        if any(e.get("type") in _FINAL for e in batch) and encoder.final is not None:
            await save(encoder.final)
        backlog = False
        for item in batch:
            backlog = sender.add(_frame(item))
        return backlog

    try:
        await response.prepare(request)
        await add(first)
        await sender.send_now()
        try:
            while True:
                if await add(encoder.take(await sender.next(events))):
                    await sender.send_now()
        except StopAsyncIteration:
            pass
        except GatewayError as exc:
            await add(encoder.fail(exc))
        await sender.finish()
    except CLIENT_GONE:
        log.debug("client of %s went away mid-stream", request_id)
    except asyncio.CancelledError:
        raise
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return response

"""Chat completions whose `tools` name MCP servers: the tool loop, in chat's shapes.

A request with `{"type": "mcp", "server_label": ...}` among its `tools` runs
the tool loop (`lowart.toolruns`). What comes back is an ordinary
`chat.completion` (or chunk stream) with these documented extensions:

- `lowart_tools`: every MCP call made in this exchange (`id`, `server`,
  `tool`, `status`: completed | failed | blocked | denied, `duration_ms`);
- `lowart_pending` when a `confirm` policy paused the loop: `session_id`,
  `expires_at` (Unix seconds) and `calls` (`id`, `server`, `tool`,
  `arguments`); the message carries them as `tool_calls` with finish_reason
  "tool_calls" (non-streamed only), and the client continues with
  `POST /v1/tools/confirm`;
- `lowart_tool_stop`: "max_steps" or "max_seconds" when a bound ended the loop
  (finish_reason "length").

Streamed, MCP calls never appear as `tool_calls` deltas (a client would try to
run them): each call's start and end is a chunk with `"choices": []` and
`lowart_tool`; a paused stream ends with a chunk carrying `lowart_pending` and
finish_reason "tool_calls"; the usage chunk sums every step.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from lowart.errors import GatewayError, InvalidRequest
from lowart.frontends.http._coalesce import CLIENT_GONE, EventSender
from lowart.frontends.http._sse import event_stream_response
from lowart.toolruns import (
    Finished,
    LoopEvent,
    LoopRequest,
    Paused,
    TextDelta,
    ToolEnded,
    ToolLoop,
    ToolRun,
    ToolStarted,
    mcp_specs,
)
from lowart.types import CallContext, Principal

__all__ = ["chat_with_tools", "has_mcp_tools", "reply_chat"]

log = logging.getLogger("lowart.http")

_DONE = b"data: [DONE]\n\n"
_NOT_FORWARDED = ("messages", "tools", "stream", "stream_options")


def has_mcp_tools(body: Any) -> bool:
    tools = body.get("tools") if isinstance(body, dict) else None
    return isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("type") == "mcp" for t in tools
    )


async def chat_with_tools(
    request: web.Request,
    loop: ToolLoop,
    principal: Principal,
    body: dict[str, Any],
    ctx: CallContext,
) -> web.StreamResponse:
    specs, others = mcp_specs(body.get("tools"))
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequest("'messages' must be an array.", param="messages")
    plan = loop.plan(principal, specs)  # 400/403/404 before any model call
    stream = bool(body.get("stream"))
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    run = LoopRequest(
        kind="chat",
        params={k: v for k, v in body.items() if k not in _NOT_FORWARDED},
        messages=list(messages),
        specs=specs,
        client_tools=others,
        stream=stream,
        extra={"include_usage": include_usage},
    )
    events = loop.run(principal, run, plan, ctx)
    return await reply_chat(request, events, str(body.get("model")), ctx, stream, include_usage)


async def reply_chat(
    request: web.Request,
    events: AsyncIterator[LoopEvent],
    model: str,
    ctx: CallContext,
    stream: bool,
    include_usage: bool,
) -> web.StreamResponse:
    """The loop's events as a chat completion, or as its chunk stream."""
    encoder = _ChatEncoder(model)
    if not stream:
        async for event in events:
            encoder.take(event)
        return web.Response(
            body=orjson.dumps(encoder.completion()), content_type="application/json"
        )
    return await _relay(request, events, encoder, ctx.request_id, include_usage)


class _ChatEncoder:
    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.model = model
        self.runs: list[ToolRun] = []
        self.end: Finished | Paused | None = None
        self._role_sent = False

    def take(self, event: LoopEvent) -> list[dict[str, Any]]:
        """The chunks for one event (what a stream sends)."""
        if isinstance(event, TextDelta):
            delta: dict[str, Any] = {"content": event.text}
            if not self._role_sent:
                self._role_sent = True
                delta = {"role": "assistant", **delta}
            return [self._chunk([{"index": 0, "delta": delta, "finish_reason": None}])]
        if isinstance(event, ToolStarted | ToolEnded):
            if isinstance(event, ToolEnded):
                self.runs.append(event.run)
            return [self._chunk([], lowart_tool=event.run.as_json())]
        if isinstance(event, Finished | Paused):
            self.end = event
            self.model = event.model or self.model
            return [self._last_chunk(event)]
        return []

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            **extra,
        }

    def _last_chunk(self, end: Finished | Paused) -> dict[str, Any]:
        delta: dict[str, Any] = {} if self._role_sent else {"role": "assistant"}
        if isinstance(end, Paused):
            choice = {"index": 0, "delta": delta, "finish_reason": "tool_calls"}
            return self._chunk([choice], lowart_pending=_pending(end))
        if end.client_calls:
            delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(end.client_calls)]
        extra = {"lowart_tool_stop": end.stopped} if end.stopped else {}
        return self._chunk(
            [{"index": 0, "delta": delta, "finish_reason": end.finish_reason}], **extra
        )

    def usage_chunk(self) -> dict[str, Any]:
        return self._chunk([], usage=self.end.usage if self.end else None)

    def completion(self) -> dict[str, Any]:
        end = self.end
        assert end is not None, "a tool loop always ends with Finished or Paused"
        message: dict[str, Any] = {"role": "assistant", "content": end.text or None}
        completion: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
            "usage": end.usage,
            "lowart_tools": [run.as_json() for run in self.runs],
        }
        if isinstance(end, Paused):
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.exposed, "arguments": call.arguments},
                }
                for call in end.calls
            ]
            completion["lowart_pending"] = _pending(end)
            return completion
        if end.client_calls:
            message["tool_calls"] = end.client_calls
        completion["choices"][0]["finish_reason"] = end.finish_reason
        if end.stopped:
            completion["lowart_tool_stop"] = end.stopped
        return completion


def _pending(paused: Paused) -> dict[str, Any]:
    return {
        "session_id": paused.session_id,
        "expires_at": paused.expires_at,
        "calls": [
            {"id": c.id, "server": c.server, "tool": c.tool, "arguments": c.arguments}
            for c in paused.calls
        ],
    }


def _frame(payload: object) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


async def _relay(
    request: web.Request,
    events: AsyncIterator[LoopEvent],
    encoder: _ChatEncoder,
    request_id: str,
    include_usage: bool,
) -> web.StreamResponse:
    """Stream the loop. The first chunk is awaited before the status line, so a
    refusal of the first step (limits, unknown model) is still a proper error status."""
    first: list[dict[str, Any]] = []
    try:
        while not first:
            first = encoder.take(await anext(events))
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    response = event_stream_response(request_id)
    sender = EventSender(response)
    try:
        await response.prepare(request)
        for chunk in first:
            sender.add(_frame(chunk))
        await sender.send_now()
        try:
            while True:
                for chunk in encoder.take(await sender.next(events)):
                    if sender.add(_frame(chunk)):
                        await sender.send_now()
        except StopAsyncIteration:
            if include_usage:
                sender.add(_frame(encoder.usage_chunk()))
        except GatewayError as exc:
            sender.add(_frame(exc.openai_body()))
        sender.add(_DONE)
        await sender.finish()
    except CLIENT_GONE:
        log.debug("client of %s went away mid-stream", request_id)
    except asyncio.CancelledError:
        raise
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return response

"""One model call of a tool loop: a normal Gateway call, its reply put together.

Every step goes through `Gateway.complete` or `Gateway.open_stream` like any
request, so its tokens count toward the key's limits, quota and budget and it
leaves its own usage record. A streamed step hands its text on as it comes;
either way the step ends with the assistant message (text and tool calls),
why it ended, the usage it reported and the route that served it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from lowart.gateway import Gateway
from lowart.types import CallContext, ChatChunk, Principal

__all__ = ["Step", "run_step"]

_MAX_CALLS = 64  # tool calls one step may make; more are dropped (an untrusted upstream)


@dataclass(slots=True)
class Step:
    number: int
    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: dict[str, int] = field(default_factory=dict)
    model: str = ""
    timed_out: bool = False

    def message(self, calls: list[dict[str, Any]]) -> dict[str, Any]:
        """The assistant turn as the conversation keeps it (with the calls given)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if calls:
            message["tool_calls"] = calls
        return message


async def run_step(
    gateway: Gateway,
    principal: Principal,
    body: dict[str, Any],
    ctx: CallContext,
    step: Step,
    *,
    stream: bool,
    deadline: float,
) -> AsyncIterator[str]:
    """Run the step, yielding its text as it comes (all at once when not streamed);
    `step` holds the rest when the iteration ends. A stream past `deadline` is
    closed (its tokens so far recorded) and the step marked `timed_out`."""
    if not stream:
        reply = await gateway.complete(principal, {**body, "stream": False}, ctx)
        step.model = str(reply.get("model") or "")
        _take_usage(step, reply.get("usage"))
        choices = reply.get("choices") or []
        choice = choices[0] if choices and isinstance(choices[0], dict) else {}
        message = choice.get("message") or {}
        step.text = _text(message.get("content"))
        step.calls = [c for c in message.get("tool_calls") or () if isinstance(c, dict)][
            :_MAX_CALLS
        ]
        step.finish_reason = str(choice.get("finish_reason") or "stop")
        if step.text:
            yield step.text
        return
    streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
    chunks = await gateway.open_stream(principal, streamed, ctx)
    calls: dict[int, dict[str, Any]] = {}
    async with chunks:
        step.model = chunks.route.name
        async for chunk in chunks:
            text = _feed(step, calls, chunk)
            if text:
                yield text
            if asyncio.get_running_loop().time() > deadline:
                step.timed_out = True
                break
    step.calls = [calls[i] for i in sorted(calls)][:_MAX_CALLS]


def _feed(step: Step, calls: dict[int, dict[str, Any]], chunk: ChatChunk) -> str:
    _take_usage(step, chunk.get("usage"))
    choices = chunk.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    if choice.get("finish_reason"):
        step.finish_reason = str(choice["finish_reason"])
    delta = choice.get("delta") or {}
    for call in delta.get("tool_calls") or ():
        if not isinstance(call, dict):
            continue
        index = call.get("index", 0)
        if not isinstance(index, int) or (index not in calls and len(calls) >= _MAX_CALLS):
            continue
        function = call.get("function") or {}
        known = calls.setdefault(
            index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if call.get("id"):
            known["id"] = str(call["id"])
        if function.get("name"):
            known["function"]["name"] += str(function["name"])
        if function.get("arguments"):
            known["function"]["arguments"] += str(function["arguments"])
    text = _text(delta.get("content"))
    step.text += text
    return text


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return ""


def _take_usage(step: Step, usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(name)
        if isinstance(value, int):
            step.usage[name] = value

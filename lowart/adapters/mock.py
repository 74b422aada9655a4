"""The built-in `mock` vendor: deterministic answers with no network and no keys.

It exists so `make run` works on a fresh machine and so clients can be tested
against lowart alone. It behaves like a real upstream: it streams word by word
(tool-call arguments in pieces, in OpenAI's streaming shape), honours
max_tokens, `n`, `tools`/`tool_choice` and `response_format` (see
`_mock_answers`), and reports usage counted with the real tokenizer.
Route options: `delay` (seconds before each streamed word), `latency` (seconds
before answering) and `reply` (fixed text).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from lowart.accounting import count_prompt_tokens_off_loop, count_text
from lowart.adapters._mock_answers import Answer, answers, words_of
from lowart.adapters.base import Adapter, EventDecoder
from lowart.types import CallContext, ChatChunk, ChatRequest, Route

__all__ = ["MockAdapter"]

_ARGUMENT_PIECE = 16  # characters of tool-call arguments per streamed delta


def _answer_text(answer: Answer) -> str:
    """What an answer's completion tokens are counted from."""
    call = answer.tool_call
    if call is None:
        return answer.content or ""
    return f"{call['function']['name']}{call['function']['arguments']}"


async def _usage(route: Route, request: dict[str, Any], replies: list[Answer]) -> dict[str, int]:
    """Exact usage, like a real upstream reports; a huge prompt is counted off the loop."""
    prompt = await count_prompt_tokens_off_loop(request, route.upstream_model)
    completion = sum(count_text(_answer_text(a), route.upstream_model) for a in replies)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _message(answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.content, "refusal": None}
    if answer.tool_call is not None:
        message["tool_calls"] = [answer.tool_call]
    return message


def _deltas(answer: Answer) -> Iterator[dict[str, Any]]:
    """One choice's stream deltas: the role, then words or a tool call in pieces."""
    call = answer.tool_call
    if call is None:
        yield {"role": "assistant", "content": ""}
        for word in words_of(answer.content or ""):
            yield {"content": word}
        return
    function = call["function"]
    head = {**call, "function": {"name": function["name"], "arguments": ""}}
    yield {"role": "assistant", "content": None, "tool_calls": [{"index": 0, **head}]}
    arguments = function["arguments"]
    for start in range(0, len(arguments), _ARGUMENT_PIECE):
        piece = arguments[start : start + _ARGUMENT_PIECE]
        yield {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}


class MockAdapter(Adapter):
    vendor = "mock"

    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        return {**request, "model": route.upstream_model}

    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        """The mock's "upstream": the answer to the (transformed) payload."""
        replies = answers(route, payload)
        latency = float(route.options.get("latency", 0))
        if latency:  # an upstream that takes a while to answer
            await asyncio.sleep(latency)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": route.upstream_model,
            "choices": [
                {
                    "index": index,
                    "message": _message(answer),
                    "logprobs": None,
                    "finish_reason": answer.finish_reason,
                }
                for index, answer in enumerate(replies)
            ],
            "usage": await _usage(route, payload, replies),
        }

    async def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        replies = answers(route, payload)
        delay = float(route.options.get("delay", 0))
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": route.upstream_model,
        }
        sent = 0
        for index, answer in enumerate(replies):
            deltas = list(_deltas(answer))
            for position, delta in enumerate(deltas):
                if delay and sent:
                    await asyncio.sleep(delay)
                sent += 1
                last = position == len(deltas) - 1
                choice = {
                    "index": index,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": answer.finish_reason if last else None,
                }
                event: Any = {**base, "choices": [choice], "usage": None}
                if decode is None:
                    yield event
                else:
                    for chunk in decode(event):
                        yield chunk
        event = {**base, "choices": [], "usage": await _usage(route, payload, replies)}
        if decode is None:
            yield event
        else:
            for chunk in decode(event):
                yield chunk

"""The built-in `mock` vendor: deterministic answers with no network and no keys.

It exists so `make run` works on a fresh machine and so clients can be tested
against lowart alone. It behaves like a real upstream: it streams word by word,
honours max_tokens and reports usage counted with the real tokenizer.
Route options: `delay` (seconds before each streamed word) and `reply` (fixed text).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from lowart.accounting import count_prompt_tokens_off_loop, count_text
from lowart.adapters.base import Adapter, EventDecoder
from lowart.types import CallContext, ChatChunk, ChatRequest, Route

__all__ = ["MockAdapter"]

_WORDS = re.compile(r"\S+\s*")


def _last_user_text(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(
                    str(p.get("text", ""))
                    for p in content
                    if isinstance(p, dict) and p.get("type") == "text"
                )
    return ""


def _reply_words(route: Route, request: dict[str, Any]) -> tuple[list[str], str]:
    """The words of the answer and the finish reason, after max_tokens truncation."""
    text = route.options.get("reply")
    if not text:
        said = " ".join(_last_user_text(request)[:4000].split())[:400]
        text = (
            f"This is the lowart mock model. You said: {said}"
            if said
            else "This is the lowart mock model."
        )
    words = _WORDS.findall(text)
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    if isinstance(limit, int) and 0 < limit < len(words):
        return words[:limit], "length"
    return words, "stop"


async def _usage(route: Route, request: dict[str, Any], text: str) -> dict[str, int]:
    """Exact usage, like a real upstream reports; a huge prompt is counted off the loop."""
    prompt = await count_prompt_tokens_off_loop(request, route.upstream_model)
    completion = count_text(text, route.upstream_model)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class MockAdapter(Adapter):
    vendor = "mock"

    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        return {**request, "model": route.upstream_model}

    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        """The mock's "upstream": the answer to the (transformed) payload."""
        latency = float(route.options.get("latency", 0))
        if latency:  # an upstream that takes a while to answer
            await asyncio.sleep(latency)
        words, finish = _reply_words(route, payload)
        text = "".join(words)
        usage = await _usage(route, payload, text)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": route.upstream_model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        }

    async def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        words, finish = _reply_words(route, payload)
        delay = float(route.options.get("delay", 0))
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": route.upstream_model,
        }
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": word} for word in words]
        for index, delta in enumerate(deltas):
            if delay and index:
                await asyncio.sleep(delay)
            last = index == len(deltas) - 1
            choice = {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish if last else None,
            }
            event: Any = {**base, "choices": [choice], "usage": None}
            if decode is None:
                yield event
            else:
                for chunk in decode(event):
                    yield chunk
        usage = await _usage(route, payload, "".join(words))
        event = {**base, "choices": [], "usage": usage}
        if decode is None:
            yield event
        else:
            for chunk in decode(event):
                yield chunk

"""Following a stream so its usage is exact however it ends.

The meter keeps what the client was sent; if the upstream never reported usage
(client disconnect, upstream failure, a vendor without streamed usage), the
tokens are counted from that text with the model's tokenizer.

A vendor that reports the prompt's usage up front (Anthropic's `message_start`)
puts it on a chunk's `lowart_prompt_usage` field: the meter takes it off the chunk
(a client never sees it) and, if the stream ends before the final usage, records
that exact prompt count (with its cache tokens) plus the completion counted so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lowart.accounting._tokens import count_prompt_tokens, count_text
from lowart.types import ChatChunk, ChatRequest

__all__ = ["StreamMeter"]


class StreamMeter:
    __slots__ = ("_model", "_pieces", "_prompt_usage", "_request", "upstream_usage")

    def __init__(self, request: ChatRequest, model: str) -> None:
        self._request = request
        self._model = model
        self._pieces: list[str] = []
        self.upstream_usage: Mapping[str, Any] | None = None
        self._prompt_usage: Mapping[str, Any] | None = None

    def observe(self, chunk: ChatChunk) -> None:
        prompt_usage = chunk.pop("lowart_prompt_usage", None)
        if prompt_usage:
            self._prompt_usage = prompt_usage
        usage = chunk.get("usage")
        if usage:
            self.upstream_usage = usage
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            if not delta:
                continue
            content = delta.get("content")
            if content:
                self._pieces.append(content)
            reasoning = delta.get("reasoning_content")
            if reasoning:
                self._pieces.append(reasoning)
            for call in delta.get("tool_calls") or ():
                function = call.get("function") or {}
                for part in (function.get("name"), function.get("arguments")):
                    if part:
                        self._pieces.append(part)

    def usage(self) -> tuple[int, int, str, Mapping[str, Any] | None]:
        """(prompt, completion, source, upstream usage) — upstream's numbers when it sent them."""
        usage = self.upstream_usage
        if usage:
            prompt = int(usage.get("prompt_tokens") or 0)
            completion = int(usage.get("completion_tokens") or 0)
            return prompt, completion, "upstream", usage
        completion = count_text("".join(self._pieces), self._model) if self._pieces else 0
        if self._prompt_usage:
            prompt = int(self._prompt_usage.get("prompt_tokens") or 0)
            return prompt, completion, "partial", self._prompt_usage
        prompt = count_prompt_tokens(self._request, self._model)
        return prompt, completion, "counted", None

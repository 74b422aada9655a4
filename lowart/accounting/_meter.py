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

from lowart.accounting._tokens import count_prompt_tokens, count_text
from lowart.accounting._usage import CheckedUsage, checked_usage, clamp_tokens
from lowart.types import ChatChunk, ChatRequest

__all__ = ["MalformedReply", "StreamMeter"]


class MalformedReply(ValueError):
    """A reply or stream chunk whose choices break the wire format (the gateway
    answers the client with an UpstreamError)."""


class StreamMeter:
    __slots__ = ("_model", "_pieces", "_prompt_usage", "_request", "upstream_usage")

    def __init__(self, request: ChatRequest, model: str) -> None:
        self._request = request
        self._model = model
        self._pieces: list[str] = []
        self.upstream_usage: CheckedUsage | None = None
        self._prompt_usage: CheckedUsage | None = None

    def observe(self, chunk: ChatChunk) -> None:
        """Take a chunk's text (and usage, checked where it appears).

        Raises MalformedReply when its choices are not a list of objects; the type
        checks are a few per chunk, on what the loop reads anyway.
        """
        prompt_usage = chunk.pop("lowart_prompt_usage", None)
        if prompt_usage:
            self._prompt_usage = checked_usage(prompt_usage)
        usage = chunk.get("usage")
        if usage:
            self._take_usage(chunk, usage)
        choices = chunk.get("choices")
        if not choices:
            return
        if type(choices) is not list:
            raise MalformedReply("'choices' is not a list")
        for choice in choices:
            if type(choice) is not dict:
                raise MalformedReply("a choice is not an object")
            delta = choice.get("delta")
            if not delta:
                continue
            if type(delta) is not dict:
                raise MalformedReply("a choice's delta is not an object")
            content = delta.get("content")
            if content and type(content) is str:
                self._pieces.append(content)
            reasoning = delta.get("reasoning_content")
            if reasoning and type(reasoning) is str:
                self._pieces.append(reasoning)
            tool_calls = delta.get("tool_calls")
            if tool_calls:
                self._take_tool_calls(tool_calls)

    def _take_usage(self, chunk: ChatChunk, usage: object) -> None:
        """Checked once per stream: safe counts go on to the client too; malformed
        usage is dropped (the gateway's own count replaces it at the end)."""
        checked = checked_usage(usage)
        if checked is None:
            chunk["usage"] = None
            return
        self.upstream_usage = checked
        chunk["usage"] = checked.as_openai(usage)

    def _take_tool_calls(self, tool_calls: object) -> None:
        if type(tool_calls) is not list:
            raise MalformedReply("a delta's tool_calls is not a list")
        for call in tool_calls:
            function = call.get("function") if type(call) is dict else None
            if type(function) is not dict:
                continue
            for part in (function.get("name"), function.get("arguments")):
                if part and type(part) is str:
                    self._pieces.append(part)

    def usage(self) -> tuple[int, int, str, CheckedUsage | None]:
        """(prompt, completion, source, upstream usage) — upstream's numbers when it sent them."""
        usage = self.upstream_usage
        if usage is not None:
            return usage.prompt, usage.completion, "upstream", usage
        completion = (
            clamp_tokens(count_text("".join(self._pieces), self._model)) if self._pieces else 0
        )
        if self._prompt_usage is not None:
            return self._prompt_usage.prompt, completion, "partial", self._prompt_usage
        prompt = clamp_tokens(count_prompt_tokens(self._request, self._model))
        return prompt, completion, "counted", None

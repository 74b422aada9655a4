"""Streams between Anthropic's Messages events and canonical (OpenAI) chunks.

Both converters are incremental and hold only the little state the mapping
needs (which block is open, which tool call is which, the usage so far), so a
stream is relayed event by event without buffering.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from lowart.translate._anthropic_response import (
    anthropic_usage_to_openai,
    finish_reason_to_anthropic,
    message_id_for,
    openai_usage_to_anthropic,
    stop_reason_to_openai,
)
from lowart.types import ChatChunk

__all__ = ["AnthropicToOpenAIStream", "OpenAIToAnthropicStream"]


class AnthropicToOpenAIStream:
    """Messages API stream events in, canonical chat completion chunks out.

    Usage arrives in two parts: `message_start` has the input (and cache)
    tokens, `message_delta` the cumulative output tokens; the usage chunk is
    emitted after `message_delta`, when both are known. `usage_so_far` lets
    the caller meter a stream that is cut before that.
    """

    def __init__(self, model: str | None = None) -> None:
        self._id = f"msg_{uuid.uuid4().hex}"
        self._model = model
        self._created = int(time.time())
        self._usage: dict[str, Any] = {}
        self._tool_for_block: dict[int, int] = {}

    def usage_so_far(self) -> dict[str, Any]:
        return anthropic_usage_to_openai(self._usage)

    def blank_chunk(self) -> dict[str, Any]:
        """A chunk with no choices, to carry data alongside the stream."""
        return {**self._base(), "choices": []}

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self._id = message.get("id") or self._id
            self._model = message.get("model") or self._model
            self._merge_usage(message.get("usage"))
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(int(event.get("index", 0)), event.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(int(event.get("index", 0)), event.get("delta") or {})
        if kind == "message_delta":
            self._merge_usage(event.get("usage"))
            reason = stop_reason_to_openai((event.get("delta") or {}).get("stop_reason"))
            return [self._chunk({}, finish_reason=reason or "stop"), self._usage_chunk()]
        return []  # ping, content_block_stop, message_stop carry nothing for OpenAI clients

    def _merge_usage(self, usage: Any) -> None:
        """Anthropic's usage counts are cumulative: a later value replaces an earlier one."""
        if isinstance(usage, dict):
            self._usage.update({k: v for k, v in usage.items() if v is not None})

    def _block_start(self, index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if kind == "thinking" and block.get("thinking"):
            return [self._chunk({"reasoning_content": block["thinking"]})]
        if kind == "tool_use":
            position = len(self._tool_for_block)
            self._tool_for_block[index] = position
            tool_input = block.get("input")
            call = {
                "index": position,
                "id": block.get("id"),
                "type": "function",
                "function": {
                    "name": block.get("name"),
                    "arguments": json.dumps(tool_input, ensure_ascii=False) if tool_input else "",
                },
            }
            return [self._chunk({"tool_calls": [call]})]
        return []

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[dict[str, Any]]:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [self._chunk({"reasoning_content": delta["thinking"]})]
        if kind == "input_json_delta" and delta.get("partial_json"):
            position = self._tool_for_block.get(index)
            if position is not None:
                call = {"index": position, "function": {"arguments": delta["partial_json"]}}
                return [self._chunk({"tool_calls": [call]})]
        return []

    def _base(self) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
        }

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**self._base(), "choices": [choice], "usage": None}

    def _usage_chunk(self) -> dict[str, Any]:
        return {**self._base(), "choices": [], "usage": self.usage_so_far()}


class OpenAIToAnthropicStream:
    """Canonical chunks in, Messages API stream events out (for `/v1/messages` clients).

    Call `feed` per chunk and `finish` once at the end: the stop reason and the
    usage arrive in separate chunks, and `message_delta` needs both.
    """

    def __init__(self, model: str | None = None) -> None:
        self._model = model
        self._started = False
        self._next_block = 0
        self._open: tuple[str, int] | None = None  # ("text", block) or ("tool", openai index)
        self._tool_blocks: dict[int, int] = {}
        self._finish: str | None = None
        self._usage: Mapping[str, Any] | None = None

    def feed(self, chunk: ChatChunk) -> list[dict[str, Any]]:
        events = self._start(chunk)
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # Anthropic has one reply per message; n > 1 is not offered
            delta = choice.get("delta") or {}
            if delta.get("content"):
                events += self._text(delta["content"])
            for call in delta.get("tool_calls") or ():
                events += self._tool(call)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        return events

    def finish(self) -> list[dict[str, Any]]:
        events = self._start({})
        events += self._close()
        events.append(
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": finish_reason_to_anthropic(self._finish) or "end_turn",
                    "stop_sequence": None,
                },
                "usage": openai_usage_to_anthropic(self._usage),
            }
        )
        events.append({"type": "message_stop"})
        return events

    def _start(self, chunk: ChatChunk) -> list[dict[str, Any]]:
        if self._started:
            return []
        self._started = True
        self._model = chunk.get("model") or self._model
        message: dict[str, Any] = {
            "id": message_id_for(chunk.get("id")),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            # the prompt's size is known only at the end; message_delta carries it
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}, {"type": "ping"}]

    def _close(self) -> list[dict[str, Any]]:
        if self._open is None:
            return []
        kind, key = self._open
        self._open = None
        index = key if kind == "text" else self._tool_blocks[key]
        return [{"type": "content_block_stop", "index": index}]

    def _new_block(self) -> int:
        index = self._next_block
        self._next_block += 1
        return index

    def _text(self, text: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if self._open is None or self._open[0] != "text":
            events += self._close()
            index = self._new_block()
            self._open = ("text", index)
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
        delta = {"type": "text_delta", "text": text}
        events.append({"type": "content_block_delta", "index": self._open[1], "delta": delta})
        return events

    def _tool(self, call: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        position = int(call.get("index", 0))
        function = call.get("function") or {}
        if position not in self._tool_blocks:
            events += self._close()
            index = self._new_block()
            self._tool_blocks[position] = index
            self._open = ("tool", position)
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{uuid.uuid4().hex[:24]}",
                "name": function.get("name"),
                "input": {},
            }
            events.append({"type": "content_block_start", "index": index, "content_block": block})
        arguments = function.get("arguments")
        if arguments:
            delta = {"type": "input_json_delta", "partial_json": arguments}
            events.append(
                {
                    "type": "content_block_delta",
                    "index": self._tool_blocks[position],
                    "delta": delta,
                }
            )
        return events

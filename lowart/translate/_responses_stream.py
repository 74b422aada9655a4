"""Responses API stream events, from canonical chat chunks and back.

`ChatToResponsesEvents` writes OpenAI's exact sequence for a streamed Response:
`response.created`, `response.in_progress`, then per output item
`response.output_item.added`, its content (`response.content_part.added`,
`response.output_text.delta`..., `response.output_text.done`,
`response.content_part.done`, or `response.function_call_arguments.delta`...
`.done`), `response.output_item.done`, and finally `response.completed` (or
`response.incomplete`) carrying the whole Response with its usage; a failure
after the first byte is `response.failed`. Every event has its
`sequence_number`.

`ResponsesEventsToChat` reads an upstream's own Responses events back into
canonical chunks, so the engine meters a natively served stream like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lowart.translate._responses_request import ToolNames
from lowart.translate._responses_response import (
    message_item,
    new_id,
    output_text_part,
    responses_usage_to_chat,
)

__all__ = ["ChatToResponsesEvents", "ResponsesEventsToChat"]

Snapshot = Callable[..., dict[str, Any]]
"""Builds the Response object in a state: snapshot(status=..., output=..., usage=...)."""

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


class _Item:
    __slots__ = ("arguments", "call_id", "chat_name", "id", "index", "kind", "pieces")

    def __init__(self, kind: str, index: int, item_id: str) -> None:
        self.kind = kind
        self.index = index
        self.id = item_id
        self.pieces: list[str] = []  # a message's text, joined when it is needed
        self.arguments = ""
        self.call_id = ""
        self.chat_name = ""

    @property
    def text(self) -> str:
        """The message's text so far (kept in pieces: appending to one string copies
        it every time, quadratic in a long answer's chunks)."""
        pieces = self.pieces
        if len(pieces) > 1:
            pieces[:] = ["".join(pieces)]
        return pieces[0] if pieces else ""


class ChatToResponsesEvents:
    """Canonical chunks in, Responses events out (each with its sequence number)."""

    def __init__(self, snapshot: Snapshot, names: ToolNames) -> None:
        self._snapshot = snapshot
        self._names = names
        self._sequence = 0
        self._output: list[dict[str, Any]] = []
        self._open: _Item | None = None
        self._calls: dict[int, _Item] = {}
        self._finish: str | None = None
        self.usage: dict[str, Any] | None = None

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "sequence_number": self.next_sequence(), **fields}

    def start(self) -> list[dict[str, Any]]:
        sequence, response = self.start_response()
        return [
            {"type": "response.created", "sequence_number": sequence, "response": response},
            {"type": "response.in_progress", "sequence_number": sequence + 1, "response": response},
        ]

    def start_response(self) -> tuple[int, dict[str, Any]]:
        """What `start`'s two events carry: the first one's sequence number (both
        numbers are taken) and the in-progress Response, for a caller that encodes
        those events itself (the Response once for both)."""
        self._sequence += 2
        return self._sequence - 2, self._snapshot(status="in_progress")

    def feed(self, chunk: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The events for one chunk (a Response has one choice: index 0)."""
        usage = chunk.get("usage")
        if usage is not None and type(usage) is dict:
            self.usage = usage
        choices = chunk.get("choices")
        if not choices or type(choices) is not list:
            return []
        choice = choices[0]
        if type(choice) is not dict or choice.get("index", 0) != 0:
            return []
        delta = choice.get("delta")
        events: list[dict[str, Any]] = []
        if delta:
            text = delta.get("content")
            if text and type(text) is str:
                item = self._open
                if item is not None and item.kind == "message":  # the common case: more text
                    item.pieces.append(text)
                    events.append(self._text_delta(item, text))
                else:
                    events = self._text(text)
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    events += self._call(call)
        if choice.get("finish_reason"):
            self._finish = choice["finish_reason"]
        return events

    def more_text(self, chunk: Mapping[str, Any]) -> tuple[int, str] | None:
        """Take in the most common chunk without building its event.

        When `chunk` only continues the open message's text (one choice, text, no
        tool call, no finish, no usage), its text is added and `(sequence number,
        text)` returned: the caller encodes that message's
        `response.output_text.delta` itself (`text_delta` gives its shape). Any
        other chunk gives None and changes nothing: `feed` it.
        """
        item = self._open
        if item is None or item.kind != "message" or chunk.get("usage") is not None:
            return None
        choices = chunk.get("choices")
        if type(choices) is not list or len(choices) != 1:
            return None
        choice = choices[0]
        if type(choice) is not dict or choice.get("finish_reason") or choice.get("index", 0):
            return None
        delta = choice.get("delta")
        if type(delta) is not dict or delta.get("tool_calls"):
            return None
        text = delta.get("content")
        if not text or type(text) is not str:
            return None
        item.pieces.append(text)
        self._sequence += 1
        return self._sequence - 1, text

    @property
    def open_message(self) -> str | None:
        """The id of the message item in progress, if one is."""
        item = self._open
        return item.id if item is not None and item.kind == "message" else None

    def text_delta(self, sequence: int, text: str) -> dict[str, Any] | None:
        """The open message's `response.output_text.delta` event for `text` at
        `sequence`, exactly as `feed` writes it, changing nothing (None when no
        message is open): the one definition a caller's own encoding derives from."""
        item = self._open
        if item is None or item.kind != "message":
            return None
        return _text_delta_event(item, sequence, text)

    def _text_delta(self, item: _Item, text: str) -> dict[str, Any]:
        self._sequence += 1
        return _text_delta_event(item, self._sequence - 1, text)

    def _text(self, text: str) -> list[dict[str, Any]]:
        """Open a message item (closing what was open) and write its first text."""
        events = self._close()
        item = self._open = _Item("message", len(self._output), new_id("msg"))
        self._output.append({})  # its place; filled when it is done
        events.append(
            self._event(
                "response.output_item.added",
                output_index=item.index,
                item=message_item(item.id, [], "in_progress"),
            )
        )
        events.append(
            self._event(
                "response.content_part.added",
                item_id=item.id,
                output_index=item.index,
                content_index=0,
                part=output_text_part(""),
            )
        )
        if text:
            item.pieces.append(text)
            events.append(self._text_delta(item, text))
        return events

    def _call(self, call: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        position = call.get("index", 0)
        item = self._calls.get(position)
        function = call.get("function") or {}
        if item is None:
            events += self._close()
            item = _Item("call", len(self._output), "")
            item.call_id = str(call.get("id") or new_id("call"))
            item.chat_name = str(function.get("name") or "")
            item.kind = "custom" if item.chat_name in self._names.custom else "call"
            item.id = new_id("ctc" if item.kind == "custom" else "fc")
            self._calls[position] = self._open = item
            self._output.append({})
            events.append(
                self._event(
                    "response.output_item.added",
                    output_index=item.index,
                    item=self._call_item(item, "", "in_progress"),
                )
            )
        arguments = function.get("arguments")
        if arguments:
            item.arguments += arguments
            if item.kind == "call":  # a custom tool's input is known only once complete
                events.append(
                    self._event(
                        "response.function_call_arguments.delta",
                        item_id=item.id,
                        output_index=item.index,
                        delta=arguments,
                    )
                )
        return events

    def _call_item(self, item: _Item, arguments: str, status: str) -> dict[str, Any]:
        described = self._names.function_item(item.call_id, item.chat_name, arguments)
        return {"id": item.id, **described, "status": status}

    def _close(self) -> list[dict[str, Any]]:
        """Finish the output item in progress (its done events)."""
        item, self._open = self._open, None
        if item is None:
            return []
        if item.kind == "message":
            part = output_text_part(item.text)
            done = message_item(item.id, [part], "completed")
            events = [
                self._event(
                    "response.output_text.done",
                    item_id=item.id,
                    output_index=item.index,
                    content_index=0,
                    text=item.text,
                    logprobs=[],
                ),
                self._event(
                    "response.content_part.done",
                    item_id=item.id,
                    output_index=item.index,
                    content_index=0,
                    part=part,
                ),
            ]
        else:
            done = self._call_item(item, item.arguments, "completed")
            if item.kind == "custom":
                events = [
                    self._event(
                        "response.custom_tool_call_input.delta",
                        item_id=item.id,
                        output_index=item.index,
                        delta=done["input"],
                    ),
                    self._event(
                        "response.custom_tool_call_input.done",
                        item_id=item.id,
                        output_index=item.index,
                        input=done["input"],
                    ),
                ]
            else:
                events = [
                    self._event(
                        "response.function_call_arguments.done",
                        item_id=item.id,
                        output_index=item.index,
                        name=done["name"],
                        arguments=item.arguments,
                    )
                ]
        self._output[item.index] = done
        events.append(self._event("response.output_item.done", output_index=item.index, item=done))
        return events

    # ---- items that are not the model's words (a tool loop's MCP items) ----------------

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        """One event of this Response's sequence (e.g. `response.mcp_call.completed`)."""
        return self._event(kind, **fields)

    def open_item(self, item: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        """Add an output item (closing what was open): its index and `output_item.added`."""
        events = self._close()
        index = len(self._output)
        self._output.append({})
        events.append(self._event("response.output_item.added", output_index=index, item=item))
        return index, events

    def done_item(self, index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
        """An item added with `open_item` is done: `output_item.done`."""
        self._output[index] = item
        return [self._event("response.output_item.done", output_index=index, item=item)]

    def finish(
        self, usage: dict[str, Any] | None, incomplete: str | None = None
    ) -> list[dict[str, Any]]:
        """The stream ended: close what is open, then `response.completed` (or
        `response.incomplete` when the model stopped at its token limit, or for the
        `incomplete` reason given)."""
        events = self._close()
        if not self._output:  # an empty answer is still one (empty) message
            events += self._empty_message()
        incomplete = incomplete or _INCOMPLETE.get(str(self._finish))
        response = self._snapshot(
            status="incomplete" if incomplete else "completed",
            output=self.output,
            usage=usage,
            incomplete=incomplete,
        )
        kind = "response.incomplete" if incomplete else "response.completed"
        return [*events, self._event(kind, response=response)]

    def _empty_message(self) -> list[dict[str, Any]]:
        return self._text("") + self._close()

    def next_sequence(self) -> int:
        """The sequence number for an event written outside this class (an error)."""
        self._sequence += 1
        return self._sequence - 1

    @property
    def output(self) -> list[dict[str, Any]]:
        """The output so far; an item still in progress as it stands (`incomplete`)."""
        output = [item for item in self._output if item]
        item = self._open
        if item is not None:
            if item.kind == "message":
                output.append(message_item(item.id, [output_text_part(item.text)], "incomplete"))
            else:
                output.append(self._call_item(item, item.arguments, "incomplete"))
        return output


def _text_delta_event(item: _Item, sequence: int, text: str) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "sequence_number": sequence,
        "item_id": item.id,
        "output_index": item.index,
        "content_index": 0,
        "delta": text,
        "logprobs": [],
    }


class ResponsesEventsToChat:
    """An upstream's Responses events in, canonical chat chunks out (for the meter):
    text deltas, function calls, and the usage of `response.completed`."""

    def __init__(self, model: str) -> None:
        self._base = {"id": "", "object": "chat.completion.chunk", "created": 0, "model": model}
        self._calls: dict[str, int] = {}

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**self._base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        if kind == "response.created":
            response = event.get("response") or {}
            self._base["id"] = str(response.get("id") or "")
            self._base["created"] = response.get("created_at") or 0
            return [self._chunk({"role": "assistant", "content": ""})]
        if kind == "response.output_text.delta":
            return [self._chunk({"content": str(event.get("delta") or "")})]
        if kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") == "function_call":
                index = self._calls[str(item.get("id"))] = len(self._calls)
                call = {
                    "index": index,
                    "id": item.get("call_id"),
                    "type": "function",
                    "function": {"name": item.get("name"), "arguments": ""},
                }
                return [self._chunk({"tool_calls": [call]})]
        if kind == "response.function_call_arguments.delta":
            index = self._calls.get(str(event.get("item_id")), 0)
            call = {"index": index, "function": {"arguments": str(event.get("delta") or "")}}
            return [self._chunk({"tool_calls": [call]})]
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            response = event.get("response") or {}
            reason = (response.get("incomplete_details") or {}).get("reason")
            finish = (
                "tool_calls"
                if self._calls
                else "length"
                if reason == "max_output_tokens"
                else "stop"
            )
            chunks = [self._chunk({}, finish)]
            usage = responses_usage_to_chat(response.get("usage"))
            if usage is not None:
                chunks.append({**self._base, "choices": [], "usage": usage})
            return chunks
        return []

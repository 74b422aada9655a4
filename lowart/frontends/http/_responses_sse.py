"""A ChatStream as Responses API server-sent events, and the same events collected.

Canonical chunks are written as OpenAI's event sequence (`ChatToResponsesEvents`),
the common text deltas straight to their frames (`_responses_frames`); a route
serving `/responses` itself hands its own events, which are relayed under this
Response's id. A stored Response is saved before its final event
leaves, so a client that reads it (or continues from it) right after the stream
always finds it. A failure after the first byte is an `error` event and then
`response.failed`: the stream still ends cleanly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from lowart.errors import GatewayError, ShuttingDown, UpstreamError
from lowart.frontends.http._coalesce import CLIENT_GONE, EventSender
from lowart.frontends.http._responses_frames import DeltaFrames, frame, frames, start_frames
from lowart.frontends.http._responses_turn import Turn
from lowart.frontends.http._sse import end_cut_stream, event_stream_response
from lowart.translate import ChatToResponsesEvents, chat_usage_to_responses
from lowart.types import ChatChunk, ChunkStream

__all__ = ["ResponseEvents", "relay_responses_stream"]

log = logging.getLogger("lowart.http")

_CUT = ShuttingDown("The gateway is shutting down; this stream was cut before its end.")
_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

Save = Callable[[dict[str, Any]], Awaitable[None]]


class ResponseEvents:
    """Turns one stream's chunks into Responses events (translated or relayed)."""

    def __init__(self, turn: Turn, route_name: str) -> None:
        turn.model = route_name
        self.turn = turn
        self.writer = ChatToResponsesEvents(turn.snapshot, turn.names)
        self.native: bool | None = None
        self.final: dict[str, Any] | None = None
        self._sequence = 0
        self._delta: DeltaFrames | None = None  # the open message's text deltas

    def frames(self, chunk: ChatChunk) -> bytes:
        """One chunk's events as SSE frames (what `feed` gives, encoded), a plain
        continuation of the open message's text without building its event."""
        delta = self._delta
        if delta is not None:
            more = self.writer.more_text(chunk)
            if more is not None:
                return delta.frame(*more)
        if self.native is None and "lowart_responses_events" not in chunk:
            self.native = False  # translated: the opening events from the Response once
            data = start_frames(*self.writer.start_response()) + frames(self.writer.feed(chunk))
        else:
            data = frames(self.feed(chunk))
        if not self.native:
            item_id = self.writer.open_message
            if item_id is None:
                self._delta = None
            elif delta is None or delta.item_id != item_id:
                self._delta = DeltaFrames.of(item_id, self.writer.text_delta)
        return data

    def feed(self, chunk: ChatChunk) -> list[dict[str, Any]]:
        if self.native is None:
            self.native = "lowart_responses_events" in chunk
            if not self.native:
                return self.writer.start() + self.writer.feed(chunk)
        if self.native:
            return [self._relayed(e) for e in chunk.get("lowart_responses_events") or ()]
        return self.writer.feed(chunk)

    def _relayed(self, event: dict[str, Any]) -> dict[str, Any]:
        self._sequence = max(self._sequence, int(event.get("sequence_number") or 0) + 1)
        if isinstance(event.get("response"), dict):
            event = {**event, "response": self.turn.renamed(event["response"])}
            if event.get("type") in _FINAL:
                self.final = event["response"]
        return event

    def finish(self) -> list[dict[str, Any]]:
        if self.native:  # the upstream's own final event was relayed, or it never came
            if self.final is not None:
                return []
            name = self.turn.model
            return self.fail(UpstreamError(f"Upstream for model '{name}' ended the stream early."))
        events = self.writer.finish(chat_usage_to_responses(self.writer.usage))
        self.final = events[-1]["response"]
        return events

    def fail(self, exc: GatewayError) -> list[dict[str, Any]]:
        error = {
            "type": "error",
            "code": exc.code,
            "message": exc.message,
            "param": exc.param,
            "sequence_number": self._next_sequence(),
        }
        failed = self.turn.failed(exc, self.writer.output)
        self.final = failed
        failure = {
            "type": "response.failed",
            "sequence_number": self._next_sequence(),
            "response": failed,
        }
        return [error, failure]

    def _next_sequence(self) -> int:
        if self.native:
            self._sequence += 1
            return self._sequence - 1
        return self.writer.next_sequence()


async def relay_responses_stream(
    request: web.Request, stream: ChunkStream, turn: Turn, request_id: str, save: Save | None
) -> web.StreamResponse:
    response = event_stream_response(request_id)
    sender = EventSender(response)
    events = ResponseEvents(turn, stream.route.name)

    saved = save is None

    async def keep_final() -> None:
        """Store the final Response before its event leaves (once, when it is known)."""
        nonlocal saved
        if not saved and events.final is not None and save is not None:
            saved = True
            await save(events.final)

    try:
        await sender.prepare(request)
        try:
            chunks = aiter(stream)
            first = True
            while True:
                data = events.frames(await sender.next(chunks))
                if events.final is not None:  # an upstream's own final event, relayed
                    await keep_final()
                if data and (sender.add(data) or first):
                    await sender.send_now()
                    first = False
        except StopAsyncIteration:
            batch = events.finish()
            await keep_final()
            sender.add(frames(batch))
        except GatewayError as exc:
            batch = events.fail(exc)
            await keep_final()
            sender.add(frames(batch))
        await sender.finish()
    except CLIENT_GONE:
        log.debug("client of %s went away mid-stream", request_id)
    except asyncio.CancelledError:
        if response.prepared:  # cut (the gateway stops): in-band, then the end
            await end_cut_stream(sender, [frame(e) for e in events.fail(_CUT)])
        raise
    finally:
        await stream.aclose()
    return response

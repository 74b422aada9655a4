"""Writing a ChatStream as Anthropic Messages API server-sent events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web

from lowart.errors import GatewayError, ShuttingDown
from lowart.frontends.http._coalesce import CLIENT_GONE, EventSender
from lowart.frontends.http._sse import end_cut_stream, event_stream_response
from lowart.translate import OpenAIToAnthropicStream
from lowart.types import ChunkStream

__all__ = ["relay_anthropic_stream"]

_CUT = ShuttingDown("The gateway is shutting down; this stream was cut before its end.")

log = logging.getLogger("lowart.http")


def _frame(event: dict[str, Any]) -> bytes:
    return (
        b"event: " + str(event.get("type")).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
    )


def _renamed(event: dict[str, Any], model: str) -> dict[str, Any]:
    """Clients see the route's public name, as on every other path."""
    if event.get("type") == "message_start" and isinstance(event.get("message"), dict):
        return {**event, "message": {**event["message"], "model": model}}
    return event


async def relay_anthropic_stream(
    request: web.Request, stream: ChunkStream, request_id: str
) -> web.StreamResponse:
    """Relay an Anthropic upstream's own events, or translate canonical chunks into
    events; an error after the first byte goes in-band as an `error` event."""
    response = event_stream_response(request_id)
    sender = EventSender(response)
    name = stream.route.name
    converter = OpenAIToAnthropicStream(name)
    native: bool | None = None
    try:
        await sender.prepare(request)
        try:
            chunks = aiter(stream)
            first = True
            while True:
                chunk = await sender.next(chunks)
                if native is None:
                    native = "lowart_anthropic_events" in chunk
                if native:
                    events = [_renamed(e, name) for e in chunk.get("lowart_anthropic_events") or ()]
                else:
                    events = converter.feed(chunk)
                backlog = False
                for event in events:
                    backlog = sender.add(_frame(event))
                if backlog or (first and events):  # the first events alone: time to first byte
                    await sender.send_now()
                    first = False
        except StopAsyncIteration:
            if not native:
                for event in converter.finish():
                    sender.add(_frame(event))
        except GatewayError as exc:
            sender.add(_frame(exc.anthropic_body()))
        await sender.finish()
    except CLIENT_GONE:
        log.debug("client of %s went away mid-stream", request_id)
    except asyncio.CancelledError:
        if response.prepared:  # cut (the gateway stops): Anthropic's error event ends it
            await end_cut_stream(sender, [_frame(_CUT.anthropic_body())])
        raise
    finally:
        await stream.aclose()
    return response

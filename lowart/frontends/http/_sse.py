"""Writing a ChatStream as OpenAI server-sent events."""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiohttp import web

from lowart.errors import GatewayError, ShuttingDown
from lowart.frontends.http._coalesce import CLIENT_GONE, EventSender
from lowart.types import ChunkStream

__all__ = ["end_cut_stream", "event_stream_response", "relay_openai_stream"]

log = logging.getLogger("lowart.http")

_DONE = b"data: [DONE]\n\n"
_CUT = ShuttingDown("The gateway is shutting down; this stream was cut before its end.")
_CUT_WRITE_SECONDS = 0.2


class _EventStreamResponse(web.StreamResponse):
    """Its status line and headers leave with the first event, in one write.

    The relays prepare a response only once the stream's first chunk is in hand,
    so holding the headers back delays nothing, and the client gets one segment
    (one wake-up) instead of two. `_send_headers_immediately` is aiohttp's own
    switch (its `web.Response` turns it off the same way); should it ever go, the
    headers are simply sent at `prepare()` again.
    """

    _send_headers_immediately = False


def event_stream_response(request_id: str) -> web.StreamResponse:
    """An SSE response that proxies must not buffer (`X-Accel-Buffering: no`)."""
    return _EventStreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "x-request-id": request_id,
        }
    )


async def relay_openai_stream(
    request: web.Request, stream: ChunkStream, request_id: str
) -> web.StreamResponse:
    """Relay chunks as they come (those that came together in one write); an error
    after the first byte goes in-band, followed by `[DONE]`, since the status line
    has already been sent."""
    response = event_stream_response(request_id)
    sender = EventSender(response)
    try:
        await sender.prepare(request)
        try:
            chunks = aiter(stream)
            sender.add(_event(await sender.next(chunks)))
            await sender.send_now()  # the first event alone: the time to first byte
            while True:
                if sender.add(_event(await sender.next(chunks))):
                    await sender.send_now()
        except StopAsyncIteration:
            pass
        except GatewayError as exc:
            sender.add(_event(exc.openai_body()))
        sender.add(_DONE)
        await sender.finish()
    except CLIENT_GONE:
        log.debug("client of %s went away mid-stream", request_id)
    except asyncio.CancelledError:
        if response.prepared:  # cut (the gateway stops): say so in-band, then [DONE]
            await end_cut_stream(sender, [_event(_CUT.openai_body()), _DONE])
        raise
    finally:
        await stream.aclose()
    return response


async def end_cut_stream(sender: EventSender, frames: list[bytes]) -> None:
    """A stream the gateway must cut still ends the way its protocol says (an error
    event, then the end marker), if the client can take it within a moment; a client
    that is gone already (the usual reason for a cancel) is simply left."""
    try:
        async with asyncio.timeout(_CUT_WRITE_SECONDS):
            for frame in frames:
                sender.add(frame)
            await sender.finish()
    except (TimeoutError, *CLIENT_GONE, RuntimeError):
        pass


def _event(payload: object) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"

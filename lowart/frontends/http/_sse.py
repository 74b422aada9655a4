"""Writing a ChatStream as OpenAI server-sent events."""

from __future__ import annotations

import logging

import orjson
from aiohttp import web

from lowart.errors import GatewayError
from lowart.gateway import ChatStream

__all__ = ["event_stream_response", "relay_openai_stream"]

log = logging.getLogger("lowart.http")

_DONE = b"data: [DONE]\n\n"
_CLIENT_GONE = (ConnectionResetError, ConnectionError)


def event_stream_response(request_id: str) -> web.StreamResponse:
    """An SSE response that proxies must not buffer (`X-Accel-Buffering: no`)."""
    return web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "x-request-id": request_id,
        }
    )


async def relay_openai_stream(
    request: web.Request, stream: ChatStream, request_id: str
) -> web.StreamResponse:
    """Relay chunks as they come; an error after the first byte goes in-band,
    followed by `[DONE]`, since the status line has already been sent."""
    response = event_stream_response(request_id)
    try:
        await response.prepare(request)
        try:
            async for chunk in stream:
                await response.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
        except GatewayError as exc:
            await response.write(b"data: " + orjson.dumps(exc.openai_body()) + b"\n\n")
        await response.write(_DONE)
        await response.write_eof()
    except _CLIENT_GONE:
        log.debug("client of %s went away mid-stream", request_id)
    finally:
        await stream.aclose()
    return response

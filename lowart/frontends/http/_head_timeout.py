"""A deadline for a connection's first request head (slow-loris protection).

aiohttp bounds a connection that has not completed a request only by its
keep-alive timer, armed when the connection is made and not moved by data: a
client that sends half a request line and then a byte now and then holds its
socket (and a file descriptor) for that long. This closes any connection
whose first request head is not complete within `seconds`. Later heads on a
kept-alive connection are bounded by the keep-alive timeout, and bodies and
streamed replies are not timed here at all (a long SSE stream is not idle).

The cost is one timer per connection and one dict lookup per request; aiohttp
has no handler-class option, so the hooks are the server's own: its
connection callbacks and its (public) request factory.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

__all__ = ["limit_request_heads"]


def limit_request_heads(server: web.Server, seconds: float) -> None:
    """Close `server`'s connections whose first request head takes longer than `seconds`."""
    if seconds <= 0:
        return
    loop = asyncio.get_running_loop()
    timers: dict[RequestHandler, asyncio.TimerHandle] = {}
    made, lost, make_request = (
        server.connection_made,
        server.connection_lost,
        server.request_factory,
    )

    def expire(handler: RequestHandler) -> None:
        if timers.pop(handler, None) is not None:
            handler.force_close()

    def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
        made(handler, transport)
        timers[handler] = loop.call_later(seconds, expire, handler)

    def connection_lost(handler: RequestHandler, exc: BaseException | None = None) -> None:
        if (timer := timers.pop(handler, None)) is not None:
            timer.cancel()
        lost(handler, exc)

    def request_factory(
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        if (timer := timers.pop(protocol, None)) is not None:  # the first head is complete
            timer.cancel()
        return make_request(message, payload, protocol, writer, task)

    # Instance attributes: the handler looks these up on the server per connection.
    setattr(server, "connection_made", connection_made)  # noqa: B010
    setattr(server, "connection_lost", connection_lost)  # noqa: B010
    server.request_factory = request_factory

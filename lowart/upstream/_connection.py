"""One keep-alive HTTP/1.1 connection to an upstream, as an asyncio protocol.

Why not aiohttp's client: per request it builds a URL object, a header
multidict, a payload object, a response object with its own stream reader and
up to three timers; on one core that was about two thirds of a pass-through's
CPU. Here a request is one `transport.write` of prepared bytes, the response
is parsed by httptools (llhttp, the parser Node.js uses) straight into a list
of body chunks, and one timer covers both the read timeout and the deadline.

A connection carries one exchange at a time (no pipelining). The consumer
waits on a single future that the parser callbacks resolve, so a response that
arrives in one read (the common case) costs one wake-up.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

from lowart.upstream._errors import ConnectionDropped, InvalidResponse, ReadTimeout

__all__ = ["Connection"]

# Flow control for streamed bodies the consumer reads slower than they arrive.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024


class Connection(asyncio.Protocol):
    """Parser callbacks fill the current exchange; the response object drains it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.idle_since = 0.0
        self.exchanges = 0  # how many requests this connection has carried
        self._active = False
        self._timer: asyncio.TimerHandle | None = None
        self._read_timeout: float | None = None
        self._deadline: float | None = None
        self._last_read = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._reset_exchange()

    def _reset_exchange(self) -> None:
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.content_encoding: bytes | None = None
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self._framed = False  # Content-Length or chunked: the body does not end at EOF
        self._interim = False
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._exc: BaseException | None = None

    # ------------------------------------------------------------------ the consumer's side
    def begin(self, data: bytes, read_timeout: float | None, deadline: float | None) -> None:
        """Send one request and start watching the clock for its response."""
        assert self.transport is not None
        self._reset_exchange()
        self._active = True
        self.exchanges += 1
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._last_read = self._loop.time()
        self.transport.write(data)
        due = self._due()
        if due is not None:
            self._timer = self._loop.call_at(due, self._on_timer)

    async def wait_headers(self) -> None:
        while not self.headers_done:
            if self._exc is not None:
                raise self._exc
            await self._wait()

    async def next_chunk(self) -> bytes | None:
        """The next piece of body as it arrived; None once the body is complete.

        Bytes that arrived before a failure are handed out before the failure is raised,
        so a stream cut mid-way still delivers (and meters) what was generated.
        """
        while True:
            chunks = self._chunks
            if chunks:
                chunk = chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered < _LOW_WATER:
                    self._paused = False
                    if self.transport is not None and not self.lost:
                        self.transport.resume_reading()
                return chunk
            if self.complete:
                return None
            if self._exc is not None:
                raise self._exc
            await self._wait()

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.lost and self._exc is None

    def drained(self) -> bool:
        """The whole body has arrived and been handed out."""
        return self.complete and not self._chunks

    def end_exchange(self) -> None:
        """The response is done with: stop the clock, forget the exchange."""
        self._active = False
        self._cancel_timer()
        self._waiter = None
        if self._paused:  # a body left unread must not leave the next exchange deaf
            self._paused = False
            if self.transport is not None and not self.lost:
                self.transport.resume_reading()

    def close(self) -> None:
        """Drop the connection now (its response is abandoned or broken)."""
        self.end_exchange()
        if self.transport is not None and not self.lost:
            self.transport.abort()

    def _wait(self) -> asyncio.Future[None]:
        waiter = self._loop.create_future()
        self._waiter = waiter
        return waiter

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self._exc is None:
            self._exc = exc
        self._cancel_timer()
        self._wake()

    # ------------------------------------------------------------------ the clock
    def _due(self) -> float | None:
        due = self._deadline
        if self._read_timeout is not None:
            read_due = self._last_read + self._read_timeout
            due = read_due if due is None or read_due < due else due
        return due

    def _on_timer(self) -> None:
        self._timer = None
        if not self._active or self.complete or self._exc is not None:
            return
        now = self._loop.time()
        if self._paused:  # the consumer is behind, not the upstream: not a read timeout
            self._last_read = now
        due = self._due()
        if due is not None and now < due:
            self._timer = self._loop.call_at(due, self._on_timer)
            return
        if self._deadline is not None and now >= self._deadline:
            reason = "total_timeout"
        else:
            reason = "read_timeout" if self.headers_done else "first_byte_timeout"
        self._fail(ReadTimeout("the upstream did not answer in time", reason=reason))
        if self.transport is not None:
            self.transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self._active:  # bytes nobody asked for: this connection cannot be trusted
            self.lost = True
            if self.transport is not None:
                self.transport.abort()
            return
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(InvalidResponse(f"invalid HTTP response: {exc}"))
            self.lost = True
            if self.transport is not None:
                self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._active and not self.complete:
            if self.headers_done and not self._framed:
                self.complete = True  # a body delimited by the end of the connection
            else:
                reset = isinstance(exc, ConnectionResetError)
                self._fail(
                    ConnectionDropped(
                        "the upstream "
                        + ("reset" if reset else "closed")
                        + " the connection mid-response",
                        reason="reset" if reset else "closed",
                    )
                )
        self._cancel_timer()
        self._wake()

    # ------------------------------------------------------------------ httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self.raw_headers.append((name, value))
        if name == b"content-length" or name == b"transfer-encoding":
            self._framed = True
        elif name == b"content-encoding":
            self.content_encoding = value.strip().lower()

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim response (100 Continue): the real one follows
            self._interim = True
            self.raw_headers = []
            self._framed = False
            self.content_encoding = None
            return
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        self.headers_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.keep_alive = self.keep_alive and self._parser.should_keep_alive()
        self.complete = True
        self._cancel_timer()
        self._wake()

"""Stream events that are ready together leave in one write, and none waits.

An upstream often delivers several events in one read. Written one by one, each
costs a `send` system call and a pass through aiohttp's writer (most of a
relay's own time on a fast stream). `EventSender` gathers encoded events and
writes them just before the relay would wait for the upstream: at the moment
there is nothing left to process, so no event is held back by a timer, and the
first event of a stream is written on its own so the time to first byte stays
as it was. Backpressure stays: a flush awaits aiohttp's drain, and a large
backlog is written without waiting for a pause.

Once the status line and headers are out (with the first write, through
aiohttp), a chunked response's later writes frame their chunk themselves and
hand it to the transport in one call: aiohttp's `StreamResponse.write` costs
three coroutine frames, a signal check and a `join` per write, a measurable
share of a slow stream's per-event cost (docs/benchmarks.md, "Third round").
aiohttp still ends the response (`write_eof`, the last chunk), and its drain
still pauses the relay when the client reads slower than the upstream writes.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import StreamWriter

__all__ = ["CLIENT_GONE", "EventSender", "flush_before_waiting"]

T = TypeVar("T")

CLIENT_GONE = (ConnectionResetError, ConnectionError)
_MAX_PENDING = 64 * 1024  # bytes gathered before they are written without waiting for a pause


@types.coroutine
def flush_before_waiting(
    awaitable: Awaitable[T], flush: Callable[[], Awaitable[None]]
) -> Generator[Any, None, T]:
    """Await `awaitable`; if it cannot finish at once, await `flush()` before waiting.

    The first step of `awaitable` runs right away; only if it then waits (it yields
    to the event loop) does `flush` run, once. An exception while flushing (a
    cancellation during a drain) is delivered to `awaitable` as if it had come
    while waiting, so the upstream call unwinds exactly as it would have.
    """
    inner = awaitable.__await__()
    try:
        signal = inner.send(None)
    except StopIteration as done:
        value: T = done.value
        return value
    failure: BaseException | None = None
    try:
        yield from flush().__await__()
    except BaseException as exc:
        failure = exc
    while True:
        if failure is None:
            try:
                yield signal  # wait for what `awaitable` waits for
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:
                failure = exc
            else:
                return (yield from inner)  # asyncio resumes with None, as `inner` expects
        try:
            signal = inner.throw(failure)
        except StopIteration as done:
            value = done.value
            return value
        failure = None


class EventSender:
    """Encoded events for one response, written together when the relay would wait.

    A client that went away is remembered when a flush finds it and raised by
    the relay's next call, so it surfaces where it always did: at the relay.
    """

    __slots__ = ("_direct", "_gone", "_parts", "_pending", "_response", "_writer")

    def __init__(self, response: web.StreamResponse) -> None:
        self._response = response
        self._parts: list[bytes] = []
        self._pending = 0
        self._gone: BaseException | None = None
        self._writer: AbstractStreamWriter | None = None
        self._direct: StreamWriter | None = None  # set once chunks may go to the transport

    async def prepare(self, request: web.Request) -> None:
        """Prepare the response (its headers leave with the first write)."""
        self._writer = await self._response.prepare(request)

    def next(self, chunks: AsyncIterator[T]) -> Awaitable[T]:
        """The next item of `chunks` (StopAsyncIteration at the end); what was
        gathered is written first if the item is not there yet."""
        return flush_before_waiting(anext(chunks), self.flush)

    def add(self, data: bytes) -> bool:
        """Gather one encoded event; True when the backlog should be written now.

        Raises what a flush found (the client went away), so the relay stops at
        the next event, as it did when every event was its own write.
        """
        if self._gone is not None:
            raise self._gone
        self._parts.append(data)
        self._pending += len(data)
        return self._pending >= _MAX_PENDING

    async def send_now(self) -> None:
        """Write what is gathered now (the first event, for the time to first byte)."""
        await self.flush()
        if self._gone is not None:
            raise self._gone

    async def flush(self) -> None:
        if not self._parts or self._gone is not None:
            return
        data = b"".join(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts.clear()
        self._pending = 0
        try:
            direct = self._direct
            if direct is None:
                await self._response.write(data)
                self._direct = self._direct_writer()
            else:
                await _write_chunk(direct, data)
        except CLIENT_GONE as exc:
            self._gone = exc

    def _direct_writer(self) -> StreamWriter | None:
        """aiohttp's writer, when later chunks may bypass it: its headers are out and
        it frames plain chunks (no compression, no declared length)."""
        writer = self._writer
        if (
            isinstance(writer, StreamWriter)
            and writer.chunked
            and not self._response.compression
            and writer.length is None
        ):
            return writer
        return None

    async def finish(self) -> None:
        """Write what is left and end the response, in one write."""
        if self._gone is not None:
            raise self._gone
        data = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        await self._response.write_eof(data)


async def _write_chunk(writer: StreamWriter, data: bytes) -> None:
    """One HTTP/1.1 chunk straight to the transport, then aiohttp's drain if the
    kernel did not take it all (it waits only while the client is not reading)."""
    transport = writer.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("Cannot write to closing transport")
    transport.write(b"%x\r\n%b\r\n" % (len(data), data))
    if transport.get_write_buffer_size():
        await writer.drain()

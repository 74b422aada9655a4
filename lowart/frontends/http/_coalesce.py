"""Stream events that are ready together leave in one write, and none waits.

An upstream often delivers several events in one read. Written one by one, each
costs a `send` system call and a pass through aiohttp's writer (most of a
relay's own time on a fast stream). `EventSender` gathers encoded events and
writes them just before the relay would wait for the upstream: at the moment
there is nothing left to process, so no event is held back by a timer, and the
first event of a stream is written on its own so the time to first byte stays
as it was. Backpressure stays: a flush awaits aiohttp's drain, and a large
backlog is written without waiting for a pause.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, TypeVar

from aiohttp import web

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

    __slots__ = ("_gone", "_parts", "_pending", "_response")

    def __init__(self, response: web.StreamResponse) -> None:
        self._response = response
        self._parts: list[bytes] = []
        self._pending = 0
        self._gone: BaseException | None = None

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
            await self._response.write(data)
        except CLIENT_GONE as exc:
            self._gone = exc

    async def finish(self) -> None:
        """Write what is left and end the response, in one write."""
        if self._gone is not None:
            raise self._gone
        data = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        await self._response.write_eof(data)

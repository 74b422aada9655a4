"""Events that are ready together go out in one write; nothing waits for a pause."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from lowart.frontends.http._coalesce import EventSender, flush_before_waiting


class Writes:
    """Stands in for the StreamResponse: records each write."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.writes: list[bytes] = []
        self.eof: bytes | None = None
        self._fail_after = fail_after

    async def write(self, data: bytes) -> None:
        if self._fail_after is not None and len(self.writes) >= self._fail_after:
            raise ConnectionResetError("client went away")
        self.writes.append(data)

    async def write_eof(self, data: bytes = b"") -> None:
        self.eof = data


async def test_no_flush_when_the_result_is_ready_at_once():
    flushes = []

    async def ready() -> int:
        return 7

    async def flush() -> None:
        flushes.append(1)

    assert await flush_before_waiting(ready(), flush) == 7
    assert flushes == []


async def test_one_flush_before_waiting():
    order = []
    gate = asyncio.Event()

    async def later() -> str:
        order.append("started")
        await gate.wait()
        order.append("resumed")
        return "done"

    async def flush() -> None:
        order.append("flushed")

    task = asyncio.create_task(flush_before_waiting(later(), flush))
    await asyncio.sleep(0)
    assert order == ["started", "flushed"]
    gate.set()
    assert await task == "done"
    assert order == ["started", "flushed", "resumed"]


@pytest.mark.parametrize("during", ["wait", "flush"])
async def test_a_cancellation_reaches_the_awaited_call(during):
    seen = []
    flushing = asyncio.Event()

    async def upstream() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("upstream cancelled")
            raise

    async def flush() -> None:
        if during == "flush":
            flushing.set()
            await asyncio.Event().wait()  # a drain that never ends

    task = asyncio.create_task(flush_before_waiting(upstream(), flush))
    if during == "flush":
        await flushing.wait()
    else:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["upstream cancelled"]


async def test_an_error_of_the_awaited_call_propagates():
    async def failing() -> None:
        await asyncio.sleep(0)
        raise ValueError("upstream broke")

    async def flush() -> None:
        pass

    with pytest.raises(ValueError, match="upstream broke"):
        await flush_before_waiting(failing(), flush)


async def _bursts(gate: asyncio.Event, paused: asyncio.Event) -> AsyncIterator[bytes]:
    for event in (b"a", b"b", b"c"):  # arrive together
        yield event
    paused.set()
    await gate.wait()
    for event in (b"d", b"e"):
        yield event


async def _relay(sender: EventSender, chunks: AsyncIterator[bytes]) -> None:
    sender.add(await sender.next(chunks))
    await sender.send_now()
    try:
        while True:
            if sender.add(await sender.next(chunks)):
                await sender.send_now()
    except StopAsyncIteration:
        pass
    sender.add(b"[DONE]")
    await sender.finish()


async def test_a_burst_is_one_write_and_the_first_event_goes_alone():
    response, gate, paused = Writes(), asyncio.Event(), asyncio.Event()
    sender = EventSender(response)  # type: ignore[arg-type]
    relay = asyncio.create_task(_relay(sender, _bursts(gate, paused)))
    await paused.wait()
    assert response.writes == [b"a", b"bc"]  # sent while the upstream pauses, not after
    gate.set()
    await relay
    assert response.eof == b"de[DONE]"


async def test_a_client_gone_during_a_flush_is_raised_to_the_relay():
    response, gate, paused = Writes(fail_after=1), asyncio.Event(), asyncio.Event()
    sender = EventSender(response)  # type: ignore[arg-type]
    relay = asyncio.create_task(_relay(sender, _bursts(gate, paused)))
    await paused.wait()
    gate.set()
    with pytest.raises(ConnectionResetError):
        await relay
    assert response.writes == [b"a"] and response.eof is None


async def test_a_large_backlog_is_written_without_waiting_for_a_pause():
    async def flood() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 40_000  # never pauses

    response = Writes()
    await _relay(EventSender(response), flood())  # type: ignore[arg-type]
    assert [len(w) for w in response.writes] == [40_000, 80_000, 80_000]
    assert response.eof == b"[DONE]"

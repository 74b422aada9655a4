"""Chunks written straight to the transport (after the headers) are what aiohttp would
have sent, keep backpressure, and notice a client that left: a real aiohttp server on
loopback, read by real clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from lowart.frontends.http._coalesce import CLIENT_GONE, EventSender

Relay = Callable[[web.Request, EventSender], Awaitable[None]]


async def _serve(relay: Relay, senders: list[EventSender]) -> tuple[web.AppRunner, int]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        sender = EventSender(response)
        senders.append(sender)
        await sender.prepare(request)
        await relay(request, sender)
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def _slow_events(n: int) -> AsyncIterator[bytes]:
    for i in range(n):
        await asyncio.sleep(0.001)  # the relay waits: every event is its own write
        yield b"data: %d\n\n" % i


async def _relay_all(events: AsyncIterator[bytes], sender: EventSender) -> None:
    try:
        while True:
            if sender.add(await sender.next(events)):
                await sender.send_now()
    except StopAsyncIteration:
        pass
    sender.add(b"data: [DONE]\n\n")
    await sender.finish()


async def test_direct_chunks_reach_a_real_client_intact():
    senders: list[EventSender] = []
    runner, port = await _serve(lambda _r, s: _relay_all(_slow_events(50), s), senders)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/") as resp,
        ):
            assert resp.headers["Transfer-Encoding"] == "chunked"
            body = await resp.read()
        expected = b"".join(b"data: %d\n\n" % i for i in range(50)) + b"data: [DONE]\n\n"
        assert body == expected
        assert senders[0]._direct is not None  # the chunks after the first went direct
    finally:
        await runner.cleanup()


async def test_direct_chunks_are_valid_http_chunked_framing():
    """Read the raw bytes: the status line, headers, then one chunk per event."""
    runner, port = await _serve(lambda _r, s: _relay_all(_slow_events(3), s), [])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        _head, _, body = raw.partition(b"\r\n\r\n")
        assert body == (
            b"9\r\ndata: 0\n\n\r\n"  # through aiohttp, with the headers
            b"9\r\ndata: 1\n\n\r\n"  # direct
            b"17\r\ndata: 2\n\ndata: [DONE]\n\n\r\n0\r\n\r\n"  # aiohttp's write_eof ends it
        )
    finally:
        await runner.cleanup()


async def test_a_client_that_does_not_read_pauses_the_relay():
    """Backpressure: the writes stop once the client's socket and the transport's
    buffer are full, and resume when it reads."""
    block = b"x" * 65_536
    written = 0
    buffered: list[int] = []

    async def flood(request: web.Request, sender: EventSender) -> None:
        nonlocal written
        for _ in range(400):  # 25 MiB if nothing held it back
            sender.add(block)
            await sender.send_now()
            written += 1
            assert request.transport is not None
            buffered.append(request.transport.get_write_buffer_size())
        await sender.finish()

    runner, port = await _serve(flood, [])
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await asyncio.sleep(0.5)
        assert 0 < written < 400  # held back, not all written into memory
        assert max(buffered) < 4 * 1024 * 1024
        got = 0
        while chunk := await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 10):
            got += len(chunk)
        sock.close()
        assert written == 400 and got > 400 * 65_536
    finally:
        await runner.cleanup()


async def test_a_client_gone_is_raised_at_the_next_event():
    gone = asyncio.Event()
    outcome: list[str] = []

    async def endless(_request: web.Request, sender: EventSender) -> None:
        try:
            for i in range(10_000):
                sender.add(b"data: %d\n\n" % i)
                await sender.send_now()
                if i == 2:
                    await gone.wait()  # the client closes meanwhile
                await asyncio.sleep(0.01)
        except CLIENT_GONE:
            outcome.append("gone")
            raise

    runner, port = await _serve(endless, [])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"data: 2\n\n")
        writer.transport.abort()
        await asyncio.sleep(0.05)
        gone.set()
        for _ in range(100):
            if outcome:
                break
            await asyncio.sleep(0.02)
        assert outcome == ["gone"]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("compress", [False, True])
async def test_a_compressed_response_keeps_aiohttp_writing(compress):
    senders: list[EventSender] = []

    async def relay(_request: web.Request, sender: EventSender) -> None:
        await _relay_all(_slow_events(5), sender)

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        if compress:
            response.enable_compression()
        sender = EventSender(response)
        senders.append(sender)
        await sender.prepare(request)
        await relay(request, sender)
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/", headers={"Accept-Encoding": "gzip"}) as r,
        ):
            body = await r.read()
        assert body.endswith(b"data: 4\n\ndata: [DONE]\n\n")
        assert (senders[0]._direct is None) is compress
    finally:
        await runner.cleanup()

"""Slow fake OpenAI-compatible upstream for the capacity benchmark.

Like ``_fast_upstream.py`` it is a raw ``asyncio.Protocol`` with the
``httptools`` parser and pre-rendered bytes, so it holds thousands of open
streams for the price of one protocol object and one timer each.  A streaming
``POST /v1/chat/completions`` gets its headers and first event at once, then
one event every ``--interval-ms`` (default 100 ms), then ``[DONE]``.  The
number of events is the request's ``max_tokens`` (default 30), read with a
regular expression rather than by parsing the JSON.  A non-streaming request
gets a fixed ``chat.completion`` at once (for the smoke test).

Usage: ``python bench/_slow_upstream.py PORT [--interval-ms 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re

import httptools

MODEL = "fake-model"
CREATED = 1_700_000_000
DEFAULT_EVENTS = 30
MAX_EVENTS = 100_000
_STREAM_RE = re.compile(rb'"stream"\s*:\s*true')
_MAX_TOKENS_RE = re.compile(rb'"max_tokens"\s*:\s*(\d+)')


def _chunk(delta: dict, finish: str | None = None) -> bytes:
    """One ``chat.completion.chunk`` SSE event encoded as one HTTP/1.1 chunk."""
    doc = {
        "id": "chatcmpl-slow",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    event = b"data: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(event), event)


_COMPLETION = json.dumps(
    {
        "id": "chatcmpl-slow",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
    },
    separators=(",", ":"),
).encode()
RESP_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(_COMPLETION),
    _COMPLETION,
)
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
)
FIRST = _chunk({"role": "assistant", "content": "w"})
MIDDLE = _chunk({"content": " w"})
LAST = _chunk({"content": " w"}, "stop")
DONE = b"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"  # the 14-byte [DONE] event, then the last chunk
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
HEALTH = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

OPEN_STREAMS = 0


class SlowProtocol(asyncio.Protocol):
    """One keep-alive connection; a stream in flight is driven by one timer."""

    interval = 0.1

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []
        self.left = 0
        self.timer: asyncio.TimerHandle | None = None
        self.keep_alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the stream's timer: the reader went away."""
        self._stop()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        """Feed the parser; close on garbage."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_begin(self) -> None:
        """Reset per-request state."""
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        """Accumulate the request target."""
        self.url += url

    def on_body(self, body: bytes) -> None:
        """Accumulate the body (only grepped)."""
        self.body.append(body)

    def on_message_complete(self) -> None:
        """Answer: start a slow stream, a JSON completion, health or 404."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self.keep_alive = self.parser.should_keep_alive()
        path = self.url.split(b"?", 1)[0]
        if path == b"/v1/chat/completions":
            body = b"".join(self.body)
            if _STREAM_RE.search(body):
                m = _MAX_TOKENS_RE.search(body)
                events = int(m.group(1)) if m else DEFAULT_EVENTS
                self._start(max(1, min(events, MAX_EVENTS)))
                return
            transport.write(RESP_JSON)
        elif path in (b"/health", b"/"):
            transport.write(HEALTH)
        else:
            transport.write(NOT_FOUND)
        if not self.keep_alive:
            transport.close()

    # the stream ----------------------------------------------------------
    def _start(self, events: int) -> None:
        global OPEN_STREAMS
        assert self.transport is not None
        OPEN_STREAMS += 1
        self.left = events - 1
        self.transport.write(SSE_HEAD + (FIRST if events > 1 else LAST))
        if self.left == 0:
            self._finish()
        else:
            self.timer = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def _tick(self) -> None:
        self.timer = None
        transport = self.transport
        if transport is None or transport.is_closing():
            self._stop()
            return
        self.left -= 1
        transport.write(MIDDLE if self.left else LAST)
        if self.left == 0:
            self._finish()
        else:
            self.timer = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def _finish(self) -> None:
        global OPEN_STREAMS
        OPEN_STREAMS -= 1
        assert self.transport is not None
        self.transport.write(DONE)
        if not self.keep_alive:
            self.transport.close()

    def _stop(self) -> None:
        global OPEN_STREAMS
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            OPEN_STREAMS -= 1


async def serve(port: int) -> None:
    """Listen on loopback until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(SlowProtocol, "127.0.0.1", port, backlog=4096)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Entry point: ``_slow_upstream.py PORT [--interval-ms MS]``."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("port", type=int, nargs="?", default=18002)
    ap.add_argument("--interval-ms", type=float, default=100.0)
    a = ap.parse_args()
    SlowProtocol.interval = a.interval_ms / 1000
    try:
        asyncio.run(serve(a.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""Callback relay with a gateway's per-event work: what a relay without tasks could reach.

Like ``_raw_relay.py`` (one upstream connection per client connection, no task
per event), but the upstream's reply is parsed and every SSE event is handled
the way lowart handles it on its OpenAI path: HTTP/1.1 response parsing
(``httptools``), SSE framing (split at the blank line, with a size limit),
``orjson.loads``, a type check, the model renamed, the text kept for metering,
``orjson.dumps``, re-framed as one HTTP chunk; all events of one read leave in
one ``transport.write``, inside the ``data_received`` callback that read them.
No auth, routing, usage record or timeouts: a floor for a design where the
upstream protocol writes straight to the client, not a gateway.

Usage: ``python bench/_callback_relay.py PORT UPSTREAM_URL``.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit

import httptools
import orjson
from _raw_relay import _Client, _Half

MAX_EVENT = 8 * 1024 * 1024
HEAD = (
    b"HTTP/1.1 %d OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
    b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
)


class _Upstream(_Half):
    """The upstream side: parses the reply and writes re-encoded events to the client."""

    def __init__(self) -> None:
        super().__init__()
        self.parser = httptools.HttpResponseParser(self)
        self.buffer = b""
        self.out: list[bytes] = []
        self.pieces: list[str] = []  # what a meter keeps

    def data_received(self, data: bytes) -> None:
        """Parse; everything this read completed goes to the client in one write."""
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, ValueError):
            if self.transport is not None:
                self.transport.abort()
            return
        peer = self.peer
        if self.out and peer is not None and peer.transport is not None:
            peer.transport.write(b"".join(self.out))
        self.out.clear()

    def on_headers_complete(self) -> None:
        """The client gets our own head (chunked SSE), as a gateway would send."""
        self.out.append(HEAD % self.parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        """Split into events; each one decoded, checked, renamed and encoded."""
        data = self.buffer + body if self.buffer else body
        start = 0
        while (end := data.find(b"\n\n", start)) >= 0:
            self._event(data[start:end])
            start = end + 2
        self.buffer = data[start:]
        if len(self.buffer) > MAX_EVENT:
            raise ValueError("event too large")

    def _event(self, raw: bytes) -> None:
        if not raw.startswith(b"data: "):
            return
        payload = raw[6:]
        if payload == b"[DONE]":
            self.out.append(b"e\r\ndata: [DONE]\n\n\r\n")
            return
        chunk = orjson.loads(payload)
        if type(chunk) is not dict:
            raise ValueError("not an object")
        chunk["model"] = "bench-model"
        for choice in chunk.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                self.pieces.append(content)
        event = b"data: " + orjson.dumps(chunk) + b"\n\n"
        self.out.append(b"%x\r\n%b\r\n" % (len(event), event))

    def on_message_complete(self) -> None:
        """The last chunk; the client connection closes with the upstream one."""
        self.out.append(b"0\r\n\r\n")


class _ParsingClient(_Client):
    upstream_protocol = _Upstream


async def serve(port: int, upstream: tuple[str, int]) -> None:
    """Listen on loopback until cancelled."""
    _ParsingClient.upstream = upstream
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_ParsingClient, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Entry point: ``_callback_relay.py PORT UPSTREAM_URL``."""
    parts = urlsplit(sys.argv[2])
    try:
        asyncio.run(serve(int(sys.argv[1]), (parts.hostname or "127.0.0.1", parts.port or 80)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""Fake OpenAI-compatible upstream for the overhead benchmark.

It is deliberately built on a raw ``asyncio.Protocol`` plus the ``httptools``
parser rather than aiohttp: the whole point of the benchmark is to measure what
a gateway adds, so the upstream must never be the bottleneck.  Responses are
pre-rendered once at start-up; per request we only search the body bytes for
``"stream": true`` / ``include_usage`` instead of parsing JSON.

Usage: ``python bench/_fast_upstream.py PORT`` (prints ``READY`` when listening).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys

import httptools

MODEL = "fake-model"
CREATED = 1_700_000_000
WORDS = [f"w{i}" for i in range(20)]
USAGE = {"prompt_tokens": 8, "completion_tokens": 20, "total_tokens": 28}
_STREAM_RE = re.compile(rb'"stream"\s*:\s*true')


def _completion_body() -> bytes:
    """Render the fixed non-streaming chat.completion answer."""
    doc = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(WORDS)},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _chunk(delta: dict, finish: str | None = None) -> dict:
    """Build one chat.completion.chunk event payload."""
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _sse_events(include_usage: bool) -> list[bytes]:
    """Render the 20 word events (+ optional usage chunk) and ``[DONE]``."""
    events = []
    for i, word in enumerate(WORDS):
        delta = {"role": "assistant", "content": word} if i == 0 else {"content": " " + word}
        finish = "stop" if i == len(WORDS) - 1 else None
        events.append(_chunk(delta, finish))
    if include_usage:
        usage_chunk = _chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = USAGE
        events.append(usage_chunk)
    out = [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    out.append(b"data: [DONE]\n\n")
    return out


def _chunked(parts: list[bytes]) -> bytes:
    """Encode SSE events as HTTP/1.1 chunks, one chunk per event."""
    enc = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
    return enc + b"0\r\n\r\n"


COMPLETION = _completion_body()
RESP_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(COMPLETION),
    COMPLETION,
)
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
)
STREAM_EVENTS = {flag: [_chunked([e])[:-5] for e in _sse_events(flag)] for flag in (False, True)}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
HEALTH = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class UpstreamProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, parsed with httptools."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (asyncio already sets TCP_NODELAY)."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Feed the parser; close the connection on garbage."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks -------------------------------------------------
    def on_message_begin(self) -> None:
        """Reset per-request state (keep-alive reuses the protocol)."""
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        """Accumulate the request target (may arrive in pieces)."""
        self.url += url

    def on_body(self, body: bytes) -> None:
        """Accumulate the body; we only ever grep it."""
        self.body.append(body)

    def on_message_complete(self) -> None:
        """Answer the request: JSON, SSE stream, health or 404."""
        if self.transport is None or self.transport.is_closing():
            return
        path = self.url.split(b"?", 1)[0]
        if path == b"/v1/chat/completions":
            body = b"".join(self.body)
            if _STREAM_RE.search(body):
                self._send_stream(b"include_usage" in body)
            else:
                self.transport.write(RESP_JSON)
        elif path in (b"/health", b"/"):
            self.transport.write(HEALTH)
        else:
            self.transport.write(NOT_FOUND)
        if not self.parser.should_keep_alive():
            self.transport.close()

    def _send_stream(self, include_usage: bool) -> None:
        """Write headers and every event as its own chunk, then the terminator.

        Events are written in one go (the upstream is never the bottleneck);
        the chunk boundaries still let a gateway forward them one by one.
        """
        assert self.transport is not None
        self.transport.writelines([SSE_HEAD, *STREAM_EVENTS[include_usage], b"0\r\n\r\n"])


async def serve(port: int) -> None:
    """Listen on loopback until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(UpstreamProtocol, "127.0.0.1", port, backlog=1024)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Entry point: ``_fast_upstream.py PORT``."""
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 18001
    try:
        asyncio.run(serve(port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

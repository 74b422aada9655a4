"""Server-sent events from a stream of body chunks.

Lines are split as bytes and data stays bytes (the JSON parser takes bytes),
so a multi-byte UTF-8 character split across network reads is reassembled
intact and nothing is decoded twice. All events in one network read are
yielded back to back, without waiting for the network in between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

__all__ = ["iter_sse"]


async def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, bytes]]:
    """Yield (event, data) per event; `event` is "message" when the upstream names none."""
    event = ""
    data: list[bytes] = []
    pending = b""
    async for chunk in chunks:
        buf = pending + chunk if pending else chunk
        start = 0
        while (end := buf.find(b"\n", start)) >= 0:
            line = buf[start:end]
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    yield event or "message", data[0] if len(data) == 1 else b"\n".join(data)
                event, data = "", []
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value[:1] == b" " else value)
            elif line.startswith(b"event:"):
                event = line[6:].strip().decode("utf-8", "replace")
            # comments (":") and other fields (id, retry) carry nothing we relay
        pending = buf[start:]
    line = pending.rstrip(b"\r")
    if line.startswith(b"data:"):
        value = line[5:]
        data.append(value[1:] if value[:1] == b" " else value)
    if data:
        yield event or "message", b"\n".join(data)

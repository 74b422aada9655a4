"""Server-sent events from body chunks, as a plain (synchronous) parser.

Fed the chunks as they come off the network, it returns every event they
complete. Lines are split as bytes and data stays bytes (the JSON parser
takes bytes), so a multi-byte UTF-8 character split across network reads is
reassembled intact and nothing is decoded twice. It is not an async
generator on purpose: a stream abandoned at its end marker would leave one
behind for the event loop to finalise, at the cost of a thread-safe wake-up
per stream.
"""

from __future__ import annotations

__all__ = ["SSEParser"]

Event = tuple[str, bytes]


class SSEParser:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[Event]:
        """Events completed by `chunk` ((name, data); name is "message" when none is given)."""
        buf = self._pending + chunk if self._pending else chunk
        if b"\r" in buf:  # CRLF line ends; a CR at the very end may still meet its LF
            keep_cr = buf.endswith(b"\r")
            buf = buf.replace(b"\r\n", b"\n")
            if keep_cr:
                buf = buf[:-1]
        else:
            keep_cr = False
        events: list[Event] = []
        start = 0
        while (end := buf.find(b"\n\n", start)) >= 0:
            block = buf[start:end]
            start = end + 2
            if block.startswith(b"data: ") and b"\n" not in block:  # the usual one-line event
                events.append(("message", block[6:]))
            elif block:
                event = _parse_block(block)
                if event is not None:
                    events.append(event)
        rest = buf[start:]
        self._pending = rest + b"\r" if keep_cr else rest
        return events

    def close(self) -> list[Event]:
        """The last event if the stream ended without its blank line."""
        block, self._pending = self._pending.replace(b"\r\n", b"\n").strip(b"\r\n"), b""
        event = _parse_block(block) if block else None
        return [event] if event is not None else []


def _parse_block(block: bytes) -> Event | None:
    name = ""
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value[:1] == b" " else value)
        elif line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
        # comments (":") and other fields (id, retry) carry nothing we relay
    if not data:
        return None
    return name or "message", data[0] if len(data) == 1 else b"\n".join(data)

"""Server-sent events from body chunks, as a plain (synchronous) parser.

Fed the chunks as they come off the network, it returns every event they
complete. Lines are split as bytes and data stays bytes (the JSON parser
takes bytes), so a multi-byte UTF-8 character split across network reads is
reassembled intact and nothing is decoded twice. It is not an async
generator on purpose: a stream abandoned at its end marker would leave one
behind for the event loop to finalise, at the cost of a thread-safe wake-up
per stream.

Work is linear in the bytes fed: each chunk's CRLFs are normalised once as it
arrives, an event spanning reads grows in place, and the search for its blank
line resumes where the last one stopped. One event may not outgrow
`max_event_bytes`: an upstream that never ends its event would otherwise hold
memory (and, once, the event loop) for as long as it keeps sending.
"""

from __future__ import annotations

from lowart.upstream._errors import EventTooLarge

__all__ = ["MAX_EVENT_BYTES", "SSEParser"]

MAX_EVENT_BYTES = 8 * 1024 * 1024  # base64 images in events fit; a runaway upstream does not

Event = tuple[str, bytes]


class SSEParser:
    __slots__ = ("_cr", "_limit", "_pending", "_scanned")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._limit = max_event_bytes
        self._pending = bytearray()  # the start of an event whose blank line has not come yet
        self._scanned = 0  # no blank line starts before this offset of `_pending`
        self._cr = False  # the last chunk ended with a CR that may still meet its LF

    def feed(self, chunk: bytes) -> list[Event]:
        """Events completed by `chunk` ((name, data); name is "message" when none is given).

        Raises EventTooLarge when an event outgrows `max_event_bytes`.
        """
        if self._cr or b"\r" in chunk:
            chunk = self._normalise(chunk)
        pending = self._pending
        if pending:  # an event spans reads: grow it, search only the new bytes
            pending += chunk
            end = pending.find(b"\n\n", self._scanned)
            if end < 0:
                self._scanned = len(pending) - 1
                if len(pending) > self._limit:
                    raise EventTooLarge(self._limit)
                return []
            if end > self._limit:
                raise EventTooLarge(self._limit)
            buf = bytes(pending)  # once per completed event, not per read
            self._pending = bytearray()
        else:
            buf = chunk
        events: list[Event] = []
        start = 0
        big = len(buf) > self._limit  # only then can an event in it be too large
        while (end := buf.find(b"\n\n", start)) >= 0:
            if big and end - start > self._limit:
                raise EventTooLarge(self._limit)
            block = buf[start:end]
            start = end + 2
            if block.startswith(b"data: ") and b"\n" not in block:  # the usual one-line event
                events.append(("message", block[6:]))
            elif block:
                event = _parse_block(block)
                if event is not None:
                    events.append(event)
        if start < len(buf):
            rest = memoryview(buf)[start:]
            if len(rest) > self._limit:
                raise EventTooLarge(self._limit)
            self._pending += rest
            self._scanned = max(len(rest) - 1, 0)
        return events

    def _normalise(self, chunk: bytes) -> bytes:
        """CRLF to LF in this chunk, holding back a final CR until the next one comes."""
        if self._cr:
            chunk = b"\r" + chunk
        self._cr = chunk.endswith(b"\r")
        if self._cr:
            chunk = chunk[:-1]
        return chunk.replace(b"\r\n", b"\n")

    def close(self) -> list[Event]:
        """The last event if the stream ended without its blank line."""
        block = bytes(self._pending).strip(b"\r\n")
        self._pending, self._scanned, self._cr = bytearray(), 0, False
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

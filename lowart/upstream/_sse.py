"""Server-sent events from body chunks, as a plain (synchronous) parser.

Fed the chunks as they come off the network, it returns every event they
complete. Lines are split as bytes and data stays bytes (the JSON parser
takes bytes), so a multi-byte UTF-8 character split across network reads is
reassembled intact and nothing is decoded twice. It is not an async
generator on purpose: a stream abandoned at its end marker would leave one
behind for the event loop to finalise, at the cost of a thread-safe wake-up
per stream.

The usual read (one whole one-line `data:` event, as vendors send them) takes
a shortcut that scans it twice instead of four times; it returns exactly what
the general path would. Work is linear in the bytes fed: each chunk's CRLFs
are normalised once as it arrives, and an event spanning reads is kept as its
pieces, each searched for the blank line once (plus the seam with the previous
one) and joined when it ends. One event may not outgrow `max_event_bytes`: an
upstream that never ends its event would otherwise hold memory (and, once, the
event loop) for as long as it keeps sending.
"""

from __future__ import annotations

from lowart.upstream._errors import EventTooLarge

__all__ = ["MAX_EVENT_BYTES", "SSEParser"]

MAX_EVENT_BYTES = 8 * 1024 * 1024  # base64 images in events fit; a runaway upstream does not

Event = tuple[str, bytes]


class SSEParser:
    __slots__ = ("_cr", "_head", "_limit", "_size", "_tail")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._limit = max_event_bytes
        self._head = b""  # the start of an event whose blank line has not come yet
        self._tail: list[bytes] = []  # its further reads, joined once when it completes
        self._size = 0  # len(_head) + the lengths in _tail
        self._cr = False  # the last chunk ended with a CR that may still meet its LF

    def feed(self, chunk: bytes) -> list[Event]:
        """Events completed by `chunk` ((name, data); name is "message" when none is given).

        Raises EventTooLarge when an event outgrows `max_event_bytes`.
        """
        if (  # the usual read: exactly one one-line `data:` event, nothing pending
            not self._head
            and not self._cr
            and chunk.startswith(b"data: ")
            and chunk.endswith(b"\n")
            and chunk.find(b"\n") == len(chunk) - 2
            and len(chunk) - 2 <= self._limit
            and b"\r" not in chunk
        ):
            return [("message", chunk[6:-2])]  # what the general path below finds, in 2 scans
        if self._cr or b"\r" in chunk:
            chunk = self._normalise(chunk)
        head = self._head
        if head:  # an event spans reads: look for its end in the new bytes only
            tail = self._tail
            seam = (tail[-1] if tail else head).endswith(b"\n") and chunk.startswith(b"\n")
            if not seam and b"\n\n" not in chunk:
                self._size += len(chunk)
                if self._size > self._limit:
                    raise EventTooLarge(self._limit)
                if chunk:
                    tail.append(chunk)
                return []
            buf = head + chunk if not tail else b"".join([head, *tail, chunk])
            self._head, self._tail = b"", []
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
            rest = buf[start:]
            if len(rest) > self._limit:
                raise EventTooLarge(self._limit)
            self._head, self._size = rest, len(rest)
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
        block = b"".join([self._head, *self._tail]).strip(b"\r\n")
        self._head, self._tail, self._size, self._cr = b"", [], 0, False
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

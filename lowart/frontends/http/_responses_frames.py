"""Responses API events as SSE frames, and the most common one without building it.

A streamed answer is mostly `response.output_text.delta` events, one per chunk,
that differ only in their sequence number and their text. Building each as a
dict and serialising it was most of what a Responses stream costs more than a
chat stream (which writes each chunk once, as it is). So a message's delta is
serialised once with placeholders and cut into its fixed parts (`DeltaFrames`),
and every delta after that is those parts around its number and its
JSON-encoded text: the same bytes for a fraction of the work (orjson encodes a
string alone exactly as inside an object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["DeltaFrames", "frame", "frames", "start_frames"]

_PREFIXES: dict[object, bytes] = {}

_SEQUENCE = 7_070_707_070_707_070  # placeholders: found once each in a delta's frame
_TEXT = "\x00"

DeltaShape = Callable[[int, str], dict[str, Any] | None]
"""The open message's delta event for (sequence number, text), or None."""


def frame(event: dict[str, Any]) -> bytes:
    kind = event.get("type")
    prefix = _PREFIXES.get(kind)
    if prefix is None:  # once per event type (an upstream's own types included)
        prefix = b"event: " + str(kind).encode() + b"\ndata: "
        if len(_PREFIXES) < 256:
            _PREFIXES[kind] = prefix
    return prefix + orjson.dumps(event) + b"\n\n"


_CREATED = b'event: response.created\ndata: {"type":"response.created","sequence_number":'
_IN_PROGRESS = (
    b'event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":'
)
_RESPONSE = b',"response":'
_END = b"}\n\n"


def start_frames(sequence: int, response: dict[str, Any]) -> bytes:
    """`response.created` and `response.in_progress` (at `sequence` and the next),
    which carry the same Response: serialised once for both, the events' own few
    fields written around it (the bytes `frames` gives for the built events)."""
    body = orjson.dumps(response)
    parts = (
        _CREATED,
        b"%d" % sequence,
        _RESPONSE,
        body,
        _END,
        _IN_PROGRESS,
        b"%d" % (sequence + 1),
        _RESPONSE,
        body,
        _END,
    )
    return b"".join(parts)


def frames(events: list[dict[str, Any]]) -> bytes:
    """Several events' frames, ready for one write."""
    if not events:
        return b""
    if len(events) == 1:
        return frame(events[0])
    return b"".join([frame(event) for event in events])


class DeltaFrames:
    """The frames of one message item's text deltas, from their fixed parts."""

    __slots__ = ("_head", "_middle", "_tail", "item_id")

    def __init__(self, item_id: str, head: bytes, middle: bytes, tail: bytes) -> None:
        self.item_id = item_id
        self._head = head
        self._middle = middle
        self._tail = tail

    @classmethod
    def of(cls, item_id: str, shape: DeltaShape) -> DeltaFrames | None:
        """The fixed parts of `shape`'s events: its frame cut at the placeholders,
        which must each occur once (else no shortcut: every delta is built)."""
        template = shape(_SEQUENCE, _TEXT)
        if template is None:
            return None
        raw = frame(template)
        sequence, text = b"%d" % _SEQUENCE, orjson.dumps(_TEXT)
        if raw.count(sequence) != 1 or raw.count(text) != 1:
            return None
        head, _, rest = raw.partition(sequence)
        middle, _, tail = rest.partition(text)
        if not middle:  # the text came before the number: not the shape this cuts
            return None
        return cls(item_id, head, middle, tail)

    def frame(self, sequence: int, text: str) -> bytes:
        parts = (self._head, b"%d" % sequence, self._middle, orjson.dumps(text), self._tail)
        return b"".join(parts)

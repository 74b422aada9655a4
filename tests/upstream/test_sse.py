"""Server-sent events parsed from arbitrary network splits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lowart.upstream import iter_sse

STREAM = (
    'event: message_start\r\ndata: {"a": 1}\r\n\r\n'
    ": a comment\n\n"
    'data: {"text": "h\u00e9llo \u2603 \U0001f600"}\n\n'
    "id: 7\nretry: 100\ndata: line one\ndata: line two\n\n"
    "data: [DONE]"
).encode()

EXPECTED = [
    ("message_start", b'{"a": 1}'),
    ("message", '{"text": "h\u00e9llo \u2603 \U0001f600"}'.encode()),
    ("message", b"line one\nline two"),
    ("message", b"[DONE]"),
]


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
async def test_events_survive_any_split_including_inside_utf8(size):
    assert [e async for e in iter_sse(_pieces(STREAM, size))] == EXPECTED


async def test_data_without_a_space_after_the_colon():
    events = [e async for e in iter_sse(_pieces(b"data:x\n\ndata:  two spaces\n\n", 4))]
    assert events == [("message", b"x"), ("message", b" two spaces")]


async def test_an_empty_stream_yields_nothing():
    assert [e async for e in iter_sse(_pieces(b"", 1))] == []

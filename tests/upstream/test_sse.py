"""Server-sent events parsed from arbitrary network splits."""

from __future__ import annotations

import pytest

from lowart.upstream import SSEParser

STREAM = (
    'event: message_start\r\ndata: {"a": 1}\r\n\r\n'
    ": a comment\n\n"
    'data: {"text": "h\u00e9llo \u2603 \U0001f600"}\n\n\n'
    "id: 7\nretry: 100\ndata: line one\ndata: line two\n\n"
    "data: [DONE]"
).encode()

EXPECTED = [
    ("message_start", b'{"a": 1}'),
    ("message", '{"text": "h\u00e9llo \u2603 \U0001f600"}'.encode()),
    ("message", b"line one\nline two"),
    ("message", b"[DONE]"),
]


def _parse(data: bytes, size: int) -> list[tuple[str, bytes]]:
    parser = SSEParser()
    events = []
    for start in range(0, len(data), size):
        events += parser.feed(data[start : start + size])
    return events + parser.close()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_events_survive_any_split_including_inside_utf8_and_crlf(size):
    assert _parse(STREAM, size) == EXPECTED


def test_crlf_everywhere():
    stream = b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"
    for size in (1, 2, 3, 100):
        assert _parse(stream, size) == [("a", b"1"), ("message", b"2")]


def test_data_without_a_space_after_the_colon():
    assert _parse(b"data:x\n\ndata:  two spaces\n\n", 4) == [
        ("message", b"x"),
        ("message", b" two spaces"),
    ]


def test_events_complete_as_soon_as_their_blank_line_arrives():
    parser = SSEParser()
    assert parser.feed(b"data: one\n") == []
    assert parser.feed(b"\ndata: tw") == [("message", b"one")]
    assert parser.feed(b"o\n\n") == [("message", b"two")]
    assert parser.close() == []


def test_an_empty_stream_yields_nothing():
    assert _parse(b"", 1) == []

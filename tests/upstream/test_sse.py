"""Server-sent events parsed from arbitrary network splits."""

from __future__ import annotations

import time

import pytest

from lowart.upstream import EventTooLarge, SSEParser

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


def test_a_blank_line_split_between_reads_ends_the_event():
    parser = SSEParser()
    assert parser.feed(b"data: a") == []
    assert parser.feed(b"bc\n") == []
    assert parser.feed(b"\n") == [("message", b"abc")]
    assert parser.feed(b"data: d\r") == []
    assert parser.feed(b"\n\r") == []
    assert parser.feed(b"\ndata: e\n\n") == [("message", b"d"), ("message", b"e")]


def test_an_event_at_the_limit_passes():
    event = b"data: " + b"x" * 94
    assert _parse_limited(event + b"\n\n", 7, limit=100) == [("message", b"x" * 94)]


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_an_event_over_the_limit_is_refused(size):
    stream = b"data: small\n\n" + b"data: " + b"x" * 200 + b"\n\n"
    with pytest.raises(EventTooLarge, match="larger than 100 bytes"):
        _parse_limited(stream, size, limit=100)


def test_an_event_that_never_ends_is_refused_as_soon_as_it_outgrows_the_limit():
    parser = SSEParser(max_event_bytes=1000)
    fed = 0
    with pytest.raises(EventTooLarge):
        while fed < 10_000:
            parser.feed(b"data: " + b"y" * 94)
            fed += 100
    assert fed <= 1000


def test_a_huge_event_is_parsed_in_linear_time():
    """16 MiB in 64 KiB reads: re-copying the tail per read took ~9 s; linear takes ~0.1 s."""
    piece = b"x" * 65536
    parser = SSEParser(max_event_bytes=32 * 1024 * 1024)
    started = time.perf_counter()
    assert parser.feed(b"data: ") == []
    for _ in range(256):
        assert parser.feed(piece) == []
    events = parser.feed(b"\r\n\r\ndata: next\n\n")
    elapsed = time.perf_counter() - started
    assert [(name, len(data)) for name, data in events] == [
        ("message", 256 * 65536),
        ("message", 4),
    ]
    assert elapsed < 1.5, elapsed


def _parse_limited(data: bytes, size: int, *, limit: int) -> list[tuple[str, bytes]]:
    parser = SSEParser(max_event_bytes=limit)
    events = []
    for start in range(0, len(data), size):
        events += parser.feed(data[start : start + size])
    return events + parser.close()


def test_a_read_holding_one_whole_event_gives_what_any_other_split_gives():
    """The shortcut for a read that is exactly one one-line event (the usual case)
    must agree with the general path (byte-by-byte reads never take it), for every
    kind of event around it: CRLF, bare CR, multi-line, named, empty, comments."""
    events = [
        b'data: {"a": 1}\n\n',
        b"data: \n\n",
        b"data:x\n\n",
        b"data: a\rb\n\n",  # a bare CR stays in the data
        b"data: crlf\r\n\r\n",
        b"data: one\ndata: two\n\n",
        b"event: named\ndata: n\n\n",
        b": comment\n\n",
        b"data: [DONE]\n\n",
        b"data: two events\n\ndata: in one read\n\n",
        "data: caf\u00e9 \u2603\n\n".encode(),
    ]
    whole = SSEParser()
    got = [e for chunk in events for e in whole.feed(chunk)] + whole.close()
    assert got == _parse(b"".join(events), 1)
    assert ("message", b'{"a": 1}') in got and ("message", b"a\rb") in got


def test_a_read_holding_one_whole_event_over_the_limit_is_refused():
    parser = SSEParser(max_event_bytes=10)
    assert parser.feed(b"data: 1234\n\n") == [("message", b"1234")]  # the block is 10 bytes
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: 12345\n\n")

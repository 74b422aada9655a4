"""A Responses stream's frames, text deltas encoded without building their events,
are byte for byte what encoding each event would give, in OpenAI's order."""

from __future__ import annotations

from typing import Any

import orjson

from lowart.frontends.http._responses_frames import frames, start_frames
from lowart.frontends.http._responses_sse import ResponseEvents
from lowart.frontends.http._responses_turn import Turn

_BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**_BASE, "choices": [choice], "usage": None}


def _encode(chunks: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    events = ResponseEvents(Turn({"model": "m", "input": "hi", "stream": True}, []), "m")
    data = b"".join(events.frames(c) for c in chunks) + frames(events.finish())
    assert data.endswith(b"\n\n")
    out = []
    for raw in data[:-2].split(b"\n\n"):
        head, body = raw.split(b"\n", 1)
        assert head.startswith(b"event: ") and body.startswith(b"data: ")
        out.append((head[7:].decode(), body[6:]))
    return out


def _check(frames_: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    events = []
    for kind, body in frames_:
        event = orjson.loads(body)
        assert orjson.dumps(event) == body  # the bytes a built event would have
        assert event["type"] == kind
        events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def test_text_deltas_are_the_events_bytes_and_the_text_adds_up():
    words = ["Hello ", 'a "quoted" ', "line\n", "é ", "\U0001f600", " end"]
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": w}) for w in words]
    chunks.append(_chunk({}, "stop"))
    chunks.append({**_BASE, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 6}})
    events = _check(_encode(chunks))
    kinds = [e["type"] for e in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * len(words),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    item_id = events[2]["item"]["id"]
    assert {(d["item_id"], d["output_index"], d["content_index"]) for d in deltas} == {
        (item_id, 0, 0)
    }
    assert all(d["logprobs"] == [] for d in deltas)
    text = "".join(words)
    assert [d["delta"] for d in deltas] == words
    assert events[-4]["text"] == text
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == text
    assert events[-1]["response"]["usage"]["output_tokens"] == 6


def test_text_with_its_finish_and_a_call_after_text_take_the_built_path():
    call = {"index": 0, "id": "call_1", "type": "function"}
    chunks = [
        _chunk({"role": "assistant", "content": "one "}),
        _chunk({"content": "two "}),
        _chunk({"content": "three"}, "stop"),  # text and finish together
        _chunk({"tool_calls": [{**call, "function": {"name": "f", "arguments": '{"a"'}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
    ]
    events = _check(_encode(chunks))
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == ["one ", "two ", "three"]
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["message", "function_call"]
    assert output[0]["content"][0]["text"] == "one two three"
    assert output[1]["arguments"] == '{"a": 1}'


def test_the_opening_events_are_the_built_events_bytes():
    """`response.created` and `response.in_progress` share one serialised Response;
    the bytes are those of the two events built and encoded one by one."""
    body = {
        "model": "m",
        "input": "hi",
        "instructions": 'say "é"\n',
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "metadata": {"k": "v"},
        "temperature": 0.5,
    }
    turn = Turn(body, [])
    built = ResponseEvents(turn, "m").writer
    fast = ResponseEvents(turn, "m").writer
    built.next_sequence()  # not only at 0
    fast.next_sequence()
    expected = frames(built.start())
    assert start_frames(*fast.start_response()) == expected
    assert built.next_sequence() == fast.next_sequence() == 3
    kinds = [raw.split(b"\n", 1)[0] for raw in expected[:-2].split(b"\n\n")]
    assert kinds == [b"event: response.created", b"event: response.in_progress"]

"""Round trips through the pure Anthropic <-> OpenAI translations.

A conversation translated there and back must come back with everything both
formats can express; the only normalisation allowed is that a message content
of one plain text part equals the same text as a string.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from lowart.errors import InvalidRequest
from lowart.translate import (
    AnthropicToOpenAIStream,
    OpenAIToAnthropicStream,
    anthropic_request_to_openai,
    anthropic_response_to_openai,
    anthropic_usage_to_openai,
    openai_request_to_anthropic,
    openai_response_to_anthropic,
    openai_usage_to_anthropic,
)

OPENAI_CONVERSATION: dict[str, Any] = {
    "model": "claude",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather and time where this photo was taken?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/p.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"zone": "CET"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "9am"}]},
        {"role": "user", "content": "Thanks, and tomorrow?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_3",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "day": 1}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_3", "content": "rain"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        },
        {
            "type": "function",
            "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
        },
    ],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": False,
    "max_tokens": 300,
    "temperature": 0.3,
    "top_p": 0.9,
    "stop": ["END", "STOP"],
    "user": "alice",
    "stream": True,
}

ANTHROPIC_CONVERSATION: dict[str, Any] = {
    "model": "claude",
    "max_tokens": 300,
    "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
                },
                {"type": "image", "source": {"type": "url", "url": "https://example.com/p.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking it up."},
                {"type": "tool_use", "id": "toolu_a", "name": "lookup", "input": {"q": "cat"}},
                {"type": "tool_use", "id": "toolu_b", "name": "lookup", "input": {"q": "dog"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "a cat"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_b",
                    "content": [{"type": "text", "text": "no dog"}],
                },
                {"type": "text", "text": "So?"},
            ],
        },
        {"role": "assistant", "content": "A cat."},
        {"role": "user", "content": "Thanks"},
    ],
    "tools": [
        {
            "name": "lookup",
            "description": "Search",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    "temperature": 0.5,
    "top_p": 0.8,
    "top_k": 4,
    "stop_sequences": ["END"],
    "metadata": {"user_id": "bob"},
    "stream": True,
}


def _plain(content: Any) -> Any:
    """One plain text part and the same text as a string say the same thing."""
    if isinstance(content, list) and len(content) == 1 and set(content[0]) == {"type", "text"}:
        if content[0]["type"] == "text":
            return content[0]["text"]
    if isinstance(content, list):
        return [_plain_block(block) for block in content]
    return content


def _plain_block(block: Any) -> Any:
    if isinstance(block, dict) and "content" in block:
        return {**block, "content": _plain(block["content"])}
    return block


def _normalised(request: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(request)
    for message in out["messages"]:
        if "content" in message:
            message["content"] = _plain(message["content"])
    return out


def test_openai_conversation_survives_a_round_trip():
    original = copy.deepcopy(OPENAI_CONVERSATION)
    anthropic = openai_request_to_anthropic(OPENAI_CONVERSATION, model="claude")
    assert OPENAI_CONVERSATION == original  # the input is not modified
    back = anthropic_request_to_openai(anthropic)
    assert _normalised(back) == _normalised(original)


def test_openai_conversation_becomes_valid_messages_api():
    body = openai_request_to_anthropic(OPENAI_CONVERSATION, model="claude-x")
    assert body["model"] == "claude-x" and body["system"] == "Be brief."
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]  # alternating
    assert [b["type"] for b in body["messages"][2]["content"]] == [
        "tool_result",
        "tool_result",
        "text",
    ]
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "get_weather",
        "disable_parallel_tool_use": True,
    }
    assert body["stop_sequences"] == ["END", "STOP"]
    assert body["metadata"] == {"user_id": "alice"}


def test_anthropic_conversation_survives_a_round_trip():
    """All but the Messages API's own fields (`top_k`), which a translated upstream
    never sees (Anthropic routes get the caller's own body)."""
    original = copy.deepcopy(ANTHROPIC_CONVERSATION)
    openai = anthropic_request_to_openai(ANTHROPIC_CONVERSATION)
    assert ANTHROPIC_CONVERSATION == original
    assert "top_k" not in openai
    back = openai_request_to_anthropic(openai, model="claude")
    original.pop("top_k")
    assert _normalised(back) == _normalised(original)


def test_roles_are_merged_and_system_messages_hoisted():
    body = openai_request_to_anthropic(
        {
            "messages": [
                {"role": "developer", "content": "Rule one."},
                {"role": "user", "content": "a"},
                {"role": "user", "content": [{"type": "text", "text": "b"}]},
                {"role": "system", "content": "Rule two."},
                {"role": "assistant", "content": "c"},
                {"role": "assistant", "content": "d"},
            ]
        },
        model="m",
    )
    assert body["system"] == [
        {"type": "text", "text": "Rule one."},
        {"type": "text", "text": "Rule two."},
    ]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}],
        },
    ]
    assert body["max_tokens"] == 4096


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice_both_ways(choice, expected):
    request = {"messages": [{"role": "user", "content": "x"}], "tool_choice": choice}
    body = openai_request_to_anthropic(request, model="m")
    assert body["tool_choice"] == expected
    back = anthropic_request_to_openai({**body, "model": "m"})
    assert back["tool_choice"] == choice


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", 3),
        ("logprobs", True),
        ("top_logprobs", 2),
        ("logit_bias", {"1": 2}),
        ("presence_penalty", 0.5),
        ("frequency_penalty", 0.1),
        ("seed", 1),
        ("response_format", {"type": "json_schema"}),
        ("functions", [{"name": "f"}]),
        ("reasoning_effort", "high"),
    ],
)
def test_unsupported_parameters_are_rejected(name, value):
    request = {"messages": [{"role": "user", "content": "x"}], name: value}
    with pytest.raises(InvalidRequest) as rejected:
        openai_request_to_anthropic(request, model="m")
    assert rejected.value.param == name and rejected.value.status == 400


@pytest.mark.parametrize(
    ("name", "value"),
    [("n", 1), ("presence_penalty", 0), ("response_format", {"type": "text"}), ("seed", None)],
)
def test_harmless_values_of_unsupported_parameters_pass(name, value):
    body = openai_request_to_anthropic(
        {"messages": [{"role": "user", "content": "x"}], name: value}, model="m"
    )
    assert name not in body


def test_unknown_fields_pass_on_unless_null():
    body = openai_request_to_anthropic(
        {
            "messages": [{"role": "user", "content": "x"}],
            "top_k": 3,
            "verbosity": None,
            "store": False,
            "prompt_cache_key": "k",
            "safety_identifier": "u1",
        },
        model="m",
    )
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 4096,
        "metadata": {"user_id": "u1"},
        "top_k": 3,
    }


@pytest.mark.parametrize(
    "part",
    [
        {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}},
        {"type": "file", "file": {"file_id": "f"}},
        {"type": "image_url", "image_url": {"url": "data:image/png,notbase64"}},
    ],
)
def test_parts_anthropic_cannot_take_are_rejected(part):
    with pytest.raises(InvalidRequest):
        openai_request_to_anthropic({"messages": [{"role": "user", "content": [part]}]}, model="m")


def test_bad_tool_arguments_are_rejected():
    message = {
        "role": "assistant",
        "tool_calls": [
            {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{"}}
        ],
    }
    with pytest.raises(InvalidRequest):
        openai_request_to_anthropic({"messages": [message]}, model="m")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"messages": [{"role": "user", "content": "x"}], "max_tokens": 5},
        {"model": "m", "messages": [], "max_tokens": 5},
        {"model": "m", "messages": [{"role": "user", "content": "x"}]},
        {"model": "m", "messages": [{"role": "system", "content": "x"}], "max_tokens": 5},
        {"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}], "max_tokens": 5},
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
    ],
)
def test_invalid_messages_bodies_are_rejected(body):
    with pytest.raises(InvalidRequest):
        anthropic_request_to_openai(body)


def test_usage_round_trip_with_cache_tokens():
    usage = {
        "input_tokens": 10,
        "output_tokens": 20,
        "cache_creation_input_tokens": 30,
        "cache_read_input_tokens": 40,
    }
    openai = anthropic_usage_to_openai(usage)
    assert openai == {
        "prompt_tokens": 80,
        "completion_tokens": 20,
        "total_tokens": 100,
        "prompt_tokens_details": {"cached_tokens": 40},
        "cache_creation_input_tokens": 30,
    }
    assert openai_usage_to_anthropic(openai) == usage


@pytest.mark.parametrize(
    "usage", ["x", None, {"input_tokens": "abc", "output_tokens": 2}, {"output_tokens": [1]}]
)
def test_malformed_anthropic_usage_is_left_for_the_gateway_to_count(usage):
    assert anthropic_usage_to_openai(usage) == {}


ANTHROPIC_REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, 2]}},
        {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 5,
        "output_tokens": 6,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 7,
    },
}


def test_replies_survive_a_round_trip():
    openai = anthropic_response_to_openai(ANTHROPIC_REPLY)
    choice = openai["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert [c["id"] for c in choice["message"]["tool_calls"]] == ["toolu_1", "toolu_2"]
    assert openai_response_to_anthropic(openai) == ANTHROPIC_REPLY
    again = anthropic_response_to_openai(openai_response_to_anthropic(openai))
    assert {**again, "created": 0} == {**openai, "created": 0}


@pytest.mark.parametrize(
    ("stop", "finish", "back"),
    [
        ("end_turn", "stop", "end_turn"),
        ("stop_sequence", "stop", "end_turn"),
        ("max_tokens", "length", "max_tokens"),
        ("tool_use", "tool_calls", "tool_use"),
        ("refusal", "content_filter", "refusal"),
    ],
)
def test_stop_reasons(stop, finish, back):
    reply = {**ANTHROPIC_REPLY, "stop_reason": stop}
    openai = anthropic_response_to_openai(reply)
    assert openai["choices"][0]["finish_reason"] == finish
    assert openai_response_to_anthropic(openai)["stop_reason"] == back


# ------------------------------------------------------------------ streams


def _anthropic_events() -> list[dict[str, Any]]:
    usage = {"input_tokens": 9, "cache_read_input_tokens": 4, "cache_creation_input_tokens": 2}
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_s",
                "type": "message",
                "role": "assistant",
                "model": "claude-x",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    for piece in ("Hel", "lo ", "wörld"):
        delta = {"type": "text_delta", "text": piece}
        events.append({"type": "content_block_delta", "index": 0, "delta": delta})
    events.append({"type": "content_block_stop", "index": 0})
    for index, (tool_id, name, pieces) in enumerate(
        (("toolu_1", "f", ['{"a": ', "[1, 2]}"]), ("toolu_2", "g", ["", '{"b": true}']))
    ):
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
        events.append({"type": "content_block_start", "index": index + 1, "content_block": block})
        for piece in pieces:
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append({"type": "content_block_delta", "index": index + 1, "delta": delta})
        events.append({"type": "content_block_stop", "index": index + 1})
    events += [
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 17},
        },
        {"type": "message_stop"},
    ]
    return events


def _accumulate_anthropic(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Rebuild the final message the way the anthropic SDK does."""
    message: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for event in events:
        kind = event["type"]
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
        elif kind == "content_block_start":
            assert event["index"] == len(message["content"])
            message["content"].append(copy.deepcopy(event["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][event["index"]], event["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            else:
                partial[event["index"]] = partial.get(event["index"], "") + delta["partial_json"]
        elif kind == "content_block_stop" and event["index"] in partial:
            message["content"][event["index"]]["input"] = json.loads(partial[event["index"]])
        elif kind == "message_delta":
            message.update(event["delta"])
            message["usage"].update(event["usage"])
    return message


def _accumulate_openai(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    text, calls, finish, usage = "", {}, None, None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk["choices"]:
            delta = choice["delta"]
            text += delta.get("content") or ""
            for call in delta.get("tool_calls") or ():
                entry = calls.setdefault(call["index"], {"id": None, "name": None, "args": ""})
                entry["id"] = call.get("id") or entry["id"]
                entry["name"] = call.get("function", {}).get("name") or entry["name"]
                entry["args"] += call.get("function", {}).get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    return {"text": text, "calls": list(calls.values()), "finish": finish, "usage": usage}


def test_anthropic_stream_becomes_openai_chunks_and_back():
    events = _anthropic_events()
    to_openai = AnthropicToOpenAIStream()
    chunks = [chunk for event in events for chunk in to_openai.feed(event)]
    result = _accumulate_openai(chunks)
    assert result["text"] == "Hello wörld" and result["finish"] == "tool_calls"
    assert [(c["id"], c["name"], json.loads(c["args"])) for c in result["calls"]] == [
        ("toolu_1", "f", {"a": [1, 2]}),
        ("toolu_2", "g", {"b": True}),
    ]
    assert result["usage"] == {
        "prompt_tokens": 15,
        "completion_tokens": 17,
        "total_tokens": 32,
        "prompt_tokens_details": {"cached_tokens": 4},
        "cache_creation_input_tokens": 2,
    }
    assert chunks[-1]["choices"] == [] and all(c["id"] == "msg_s" for c in chunks)

    to_anthropic = OpenAIToAnthropicStream()
    replayed = [event for chunk in chunks for event in to_anthropic.feed(chunk)]
    replayed += to_anthropic.finish()
    original = _accumulate_anthropic(events)
    rebuilt = _accumulate_anthropic(replayed)
    assert rebuilt["content"] == original["content"]
    assert rebuilt["stop_reason"] == "tool_use" and rebuilt["id"] == "msg_s"
    assert rebuilt["usage"] == {
        "input_tokens": 9,
        "output_tokens": 17,
        "cache_creation_input_tokens": 2,
        "cache_read_input_tokens": 4,
    }


def test_usage_so_far_knows_the_prompt_before_the_end():
    to_openai = AnthropicToOpenAIStream()
    to_openai.feed(_anthropic_events()[0])
    assert to_openai.usage_so_far()["prompt_tokens"] == 15


def test_openai_stream_becomes_anthropic_events_and_back():
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hi "}),
        chunk({"content": "there"}),
        chunk(
            {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": ""}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x": 1}'}}]}),
        chunk(
            {"tool_calls": [{"index": 1, "id": "c2", "function": {"name": "g", "arguments": "{}"}}]}
        ),
        chunk({}, "tool_calls"),
        {**base, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
    ]
    to_anthropic = OpenAIToAnthropicStream()
    events = [event for c in chunks for event in to_anthropic.feed(c)] + to_anthropic.finish()
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == [
        "message_delta",
        "message_stop",
    ]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 3
    message = _accumulate_anthropic(events)
    assert message["content"] == [
        {"type": "text", "text": "Hi there"},
        {"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 1}},
        {"type": "tool_use", "id": "c2", "name": "g", "input": {}},
    ]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"]["input_tokens"] == 3 and message["usage"]["output_tokens"] == 4

    to_openai = AnthropicToOpenAIStream()
    back = _accumulate_openai([c for e in events for c in to_openai.feed(e)])
    assert back["text"] == "Hi there" and back["finish"] == "tool_calls"
    assert [(c["id"], c["name"], c["args"]) for c in back["calls"]] == [
        ("c1", "f", '{"x": 1}'),
        ("c2", "g", "{}"),
    ]
    assert back["usage"]["prompt_tokens"] == 3 and back["usage"]["completion_tokens"] == 4


def test_an_empty_openai_stream_still_makes_a_well_formed_message():
    events = OpenAIToAnthropicStream("m").finish()
    assert [e["type"] for e in events] == ["message_start", "ping", "message_delta", "message_stop"]
    assert events[0]["message"]["model"] == "m"

"""The official openai SDK talking to an Anthropic upstream through lowart."""

from __future__ import annotations

import json
import time

import openai
import pytest

from tests.support.fake_anthropic import (
    CACHE_CREATION,
    CACHE_READ,
    INPUT_TOKENS,
    TOOL_CALLS,
    add_anthropic_route,
)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


@pytest.fixture
def claude(gateway, fake_anthropic):
    for name, upstream in (
        ("claude", "claude-echo"),
        ("claude-cached", "claude-cached"),
        ("claude-tools", "claude-tools"),
        ("claude-midstream", "claude-midstream-error"),
        ("claude-drop", "claude-drop"),
        ("claude-400", "fail-400"),
        ("claude-401", "fail-401"),
        ("claude-529", "fail-529"),
    ):
        add_anthropic_route(gateway, fake_anthropic, name, upstream)
    gateway.extra["anthropic"] = fake_anthropic
    return gateway


def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)


def test_non_streaming_translates_both_ways(claude):
    fake = claude.extra["anthropic"]
    reply = client(claude).chat.completions.create(
        model="claude",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there"},
        ],
        temperature=0.5,
        stop="END",
        user="alice",
    )
    assert reply.model == "claude"
    assert reply.choices[0].message.content == "echo: hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == INPUT_TOKENS
    assert reply.usage.completion_tokens == 3
    sent = fake.requests[-1]
    assert sent == {
        "model": "claude-echo",
        "messages": [{"role": "user", "content": "hello there"}],
        "max_tokens": 4096,
        "system": "Be brief.",
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "alice"},
    }
    headers = fake.headers[-1]
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers
    record = claude.wait_for_records(1)[-1]
    assert (record["vendor"], record["prompt_tokens"], record["completion_tokens"]) == (
        "anthropic",
        INPUT_TOKENS,
        3,
    )


def test_max_tokens_reaches_upstream_and_length_is_reported(claude):
    reply = client(claude).chat.completions.create(
        model="claude",
        messages=[{"role": "user", "content": "one two three four five"}],
        max_completion_tokens=2,
    )
    assert claude.extra["anthropic"].requests[-1]["max_tokens"] == 2
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == "echo: one "


def test_parallel_tool_calls_and_results_round_trip(claude):
    fake = claude.extra["anthropic"]
    messages = [{"role": "user", "content": "weather and time in Paris?"}]
    reply = client(claude).chat.completions.create(
        model="claude-tools", messages=messages, tools=TOOLS, tool_choice="required"
    )
    sent = fake.requests[-1]
    assert sent["tool_choice"] == {"type": "any"}
    assert sent["tools"][0] == {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (i, n, a) for i, n, a in TOOL_CALLS
    ]
    # send the calls and their results back: ids and order must survive
    messages.append(choice.message.model_dump(exclude_none=True))
    for call in calls:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": f"ok {call.id}"})
    messages.append({"role": "user", "content": "thanks"})
    client(claude).chat.completions.create(
        model="claude",
        messages=messages,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        parallel_tool_calls=False,
    )
    sent = fake.requests[-1]
    assert sent["tool_choice"] == {
        "type": "tool",
        "name": "get_time",
        "disable_parallel_tool_use": True,
    }
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assistant = sent["messages"][1]["content"]
    assert [b["type"] for b in assistant] == ["text", "tool_use", "tool_use"]
    assert [(b["id"], b["name"], b["input"]) for b in assistant[1:]] == list(TOOL_CALLS)
    results = sent["messages"][2]["content"]
    assert results == [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "ok toolu_01"},
        {"type": "tool_result", "tool_use_id": "toolu_02", "content": "ok toolu_02"},
        {"type": "text", "text": "thanks"},
    ]


def test_streaming_text_with_usage(claude):
    chunks = list(
        client(claude).chat.completions.create(
            model="claude",
            messages=[{"role": "user", "content": "a b c"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: a b c"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == INPUT_TOKENS
    assert chunks[-1].usage.completion_tokens == 4
    assert all(c.model == "claude" for c in chunks)
    assert claude.extra["anthropic"].requests[-1]["stream"] is True
    record = claude.wait_for_records(1)[-1]
    assert (record["prompt_tokens"], record["completion_tokens"], record["stream"]) == (
        INPUT_TOKENS,
        4,
        True,
    )


def test_streaming_parallel_tool_calls(claude):
    stream = client(claude).chat.completions.create(
        model="claude-tools",
        messages=[{"role": "user", "content": "go"}],
        tools=TOOLS,
        stream=True,
    )
    calls: dict[int, dict] = {}
    finish = None
    for chunk in stream:
        assert chunk.usage is None  # not asked for
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or ():
            call = calls.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            call["id"] = delta.id or call["id"]
            call["name"] = (delta.function.name if delta.function else None) or call["name"]
            call["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert finish == "tool_calls"
    assert [(c["id"], c["name"], json.loads(c["arguments"])) for c in calls.values()] == list(
        TOOL_CALLS
    )


@pytest.mark.parametrize("stream", [False, True])
def test_cache_tokens_reach_the_usage_record(claude, stream):
    request = {"model": "claude-cached", "messages": [{"role": "user", "content": "x"}]}
    if stream:
        chunks = list(
            client(claude).chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
        )
        usage = chunks[-1].usage
    else:
        usage = client(claude).chat.completions.create(**request).usage
    assert usage.prompt_tokens == INPUT_TOKENS + CACHE_READ + CACHE_CREATION
    assert usage.prompt_tokens_details.cached_tokens == CACHE_READ
    record = claude.wait_for_records(1)[-1]
    assert record["prompt_tokens"] == INPUT_TOKENS + CACHE_READ + CACHE_CREATION
    assert record["cache_read_tokens"] == CACHE_READ
    assert record["cache_creation_tokens"] == CACHE_CREATION
    assert record["usage_source"] == "upstream"


def test_stream_cut_off_by_client_keeps_exact_prompt_usage(claude):
    fake = claude.extra["anthropic"]
    stream = client(claude).chat.completions.create(
        model="claude-cached",
        messages=[{"role": "user", "content": "long please"}],
        stream=True,
        extra_body={"fake_words": 200, "fake_delay": 0.01},
    )
    received = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received.append(chunk.choices[0].delta.content)
        if len(received) == 5:
            break
    stream.close()
    records = claude.wait_for_records(1)
    record = records[-1]
    assert record["status"] == "cancelled"
    assert record["prompt_tokens"] == INPUT_TOKENS + CACHE_READ + CACHE_CREATION
    assert record["cache_read_tokens"] == CACHE_READ
    assert record["cache_creation_tokens"] == CACHE_CREATION
    assert record["usage_source"] == "partial"
    assert 5 <= record["completion_tokens"] < 200
    deadline = time.monotonic() + 5
    while fake.streams_cancelled == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.streams_cancelled == 1 and fake.streams_finished == 0


def test_upstream_errors_map_to_openai_errors(claude):
    with pytest.raises(openai.BadRequestError) as bad:
        client(claude).chat.completions.create(
            model="claude-400", messages=[{"role": "user", "content": "x"}]
        )
    assert "fake failure 400" in bad.value.message
    with pytest.raises(openai.InternalServerError) as overloaded:
        client(claude).chat.completions.create(
            model="claude-529", messages=[{"role": "user", "content": "x"}]
        )
    assert overloaded.value.status_code == 503
    # the operator's provider key was refused: not the caller's auth failure
    with pytest.raises(openai.APIStatusError) as refused:
        client(claude).chat.completions.create(
            model="claude-401", messages=[{"role": "user", "content": "x"}]
        )
    assert refused.value.status_code == 502
    assert "sk-ant" not in str(refused.value.body)
    records = claude.wait_for_records(3)
    assert [r["http_status"] for r in records[-3:]] == [400, 503, 502]


@pytest.mark.parametrize(
    ("model", "message"),
    [("claude-midstream", "Overloaded"), ("claude-drop", "dropped the connection")],
)
def test_errors_after_the_first_byte_arrive_in_band(claude, model, message):
    stream = client(claude).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "one two three four"}], stream=True
    )
    with pytest.raises(openai.APIError) as failed:
        for _chunk in stream:
            pass
    assert message in str(failed.value)
    record = claude.wait_for_records(1)[-1]
    assert record["status"] == "error"
    assert record["prompt_tokens"] == INPUT_TOKENS


@pytest.mark.parametrize(
    ("field", "value"),
    [("n", 2), ("logprobs", True), ("seed", 7), ("response_format", {"type": "json_object"})],
)
def test_parameters_anthropic_cannot_honour_are_rejected(claude, field, value):
    with pytest.raises(openai.BadRequestError) as bad:
        client(claude).chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "x"}], **{field: value}
        )
    assert field in bad.value.message and bad.value.body["param"] == field
    assert claude.extra["anthropic"].requests == []


def test_images_as_base64_and_url(claude):
    client(claude).chat.completions.create(
        model="claude",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ],
    )
    content = claude.extra["anthropic"].requests[-1]["messages"][0]["content"]
    assert content[1:] == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_anthropic_extensions_pass_through_from_an_openai_client(claude):
    client(claude).chat.completions.create(
        model="claude",
        messages=[{"role": "user", "content": "x"}],
        extra_body={"top_k": 5},
    )
    assert claude.extra["anthropic"].requests[-1]["top_k"] == 5

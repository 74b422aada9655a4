"""The official anthropic SDK on /v1/messages: Anthropic, OpenAI-compatible and mock routes."""

from __future__ import annotations

import asyncio
import time

import anthropic
import pytest

from lowart.accounting import count_prompt_tokens
from lowart.translate import anthropic_request_to_openai
from tests.support.fake_anthropic import (
    CACHE_CREATION,
    CACHE_READ,
    INPUT_TOKENS,
    TOOL_CALLS,
    add_anthropic_route,
    output_tokens,
)
from tests.support.fake_openai import STREAMED_TOOL_CALLS

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"name": "get_time", "input_schema": {"type": "object"}},
]


@pytest.fixture
def routes(gateway, fake_anthropic):
    for name, upstream in (
        ("claude", "claude-echo"),
        ("claude-cached", "claude-cached"),
        ("claude-tools", "claude-tools"),
        ("claude-midstream", "claude-midstream-error"),
        ("claude-529", "fail-529"),
        ("claude-413", "fail-413"),
        ("claude-401", "fail-401"),
    ):
        add_anthropic_route(gateway, fake_anthropic, name, upstream)
    for name, upstream in (("fake-tools", "tools"), ("fake-drop", "drop"), ("fake-long", "long")):
        gateway.add_model(
            name, "openai", base_url=gateway.extra["fake"].base_url, upstream_model=upstream
        )
    gateway.extra["anthropic"] = fake_anthropic
    return gateway


def client(gateway, **kw) -> anthropic.Anthropic:
    kw.setdefault("api_key", gateway.admin_key)
    return anthropic.Anthropic(base_url=gateway.base_url, max_retries=0, **kw)


# ------------------------------------------------------------- translated routes


def test_mock_route_non_streaming(routes):
    message = client(routes).messages.create(
        model="mock", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "mock"
    assert message.content[0].text == "This is the lowart mock model. You said: hi"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    record = routes.wait_for_records(1)[-1]
    assert record["interface"] == "anthropic"
    assert record["prompt_tokens"] == message.usage.input_tokens
    assert record["completion_tokens"] == message.usage.output_tokens


def test_mock_route_streaming_with_max_tokens(routes):
    with client(routes).messages.stream(
        model="mock", max_tokens=3, messages=[{"role": "user", "content": "hello world"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "This is the "
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0


def test_openai_route_with_system_and_tools(routes):
    fake = routes.extra["fake"]
    message = client(routes).messages.create(
        model="fake-tools",
        max_tokens=50,
        system="Be brief.",
        messages=[{"role": "user", "content": "weather?"}],
        tools=TOOLS,
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        stop_sequences=["END"],
        metadata={"user_id": "alice"},
    )
    sent = fake.requests[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "weather?"},
    ]
    assert sent["tools"][0] == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    assert sent["tool_choice"] == "required" and sent["parallel_tool_calls"] is False
    assert (sent["max_tokens"], sent["stop"], sent["user"]) == (50, ["END"], "alice")
    assert message.stop_reason == "tool_use"
    tool = message.content[-1]
    assert (tool.type, tool.id, tool.name, tool.input) == (
        "tool_use",
        "call_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 7)


def test_openai_route_streaming_parallel_tool_calls(routes):
    with client(routes).messages.stream(
        model="fake-tools",
        max_tokens=50,
        messages=[{"role": "user", "content": "weather and time?"}],
        tools=TOOLS,
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "text" and final.content[0].text == "Checking. "
    calls = [(b.id, b.name, b.input) for b in final.content[1:]]
    assert calls == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_time", {"zone": "Europe/Paris"}),
    ]
    assert len(STREAMED_TOOL_CALLS) == 2
    assert final.usage.input_tokens == 11 and final.usage.output_tokens == 5
    record = routes.wait_for_records(1)[-1]
    assert (record["prompt_tokens"], record["completion_tokens"]) == (11, 5)


def test_openai_route_tool_results_are_sent_as_tool_messages(routes):
    fake = routes.extra["fake"]
    client(routes).messages.create(
        model="fake",
        max_tokens=50,
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"c": 1}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_9", "content": "sunny"},
                    {"type": "text", "text": "and tomorrow?"},
                ],
            },
        ],
    )
    assert fake.requests[-1]["messages"][1:] == [
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_9",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"c": 1}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny"},
        {"role": "user", "content": [{"type": "text", "text": "and tomorrow?"}]},
    ]


def test_openai_route_stream_cut_off_by_client(routes):
    fake = routes.extra["fake"]
    stream = client(routes).messages.create(
        model="fake-long",  # Messages API fields never reach an OpenAI upstream: the route says
        max_tokens=500,
        messages=[{"role": "user", "content": "long"}],
        stream=True,
    )
    texts = []
    for event in stream:
        if event.type == "content_block_delta":
            texts.append(event.delta.text)
        if len(texts) == 4:
            break
    stream.close()
    record = routes.wait_for_records(1)[-1]
    assert record["status"] == "cancelled" and record["interface"] == "anthropic"
    assert record["usage_source"] == "counted"
    assert 4 <= record["completion_tokens"] < 200
    assert record["prompt_tokens"] == count_prompt_tokens(
        {"messages": [{"role": "user", "content": "long"}]}, "long"
    )
    deadline = time.monotonic() + 5
    while fake.streams_cancelled == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake.streams_cancelled == 1


def test_openai_route_error_mid_stream_is_an_error_event(routes):
    stream = client(routes).messages.create(
        model="fake-drop",
        max_tokens=50,
        messages=[{"role": "user", "content": "x"}],
        stream=True,
        extra_body={"fake_words": 10},
    )
    with pytest.raises(anthropic.APIStatusError) as failed:
        for _event in stream:
            pass
    assert failed.value.body["type"] == "error"
    assert failed.value.body["error"]["type"] == "api_error"
    assert "dropped the connection" in failed.value.body["error"]["message"]


# ------------------------------------------------------------- anthropic routes


def test_anthropic_route_passes_the_body_through(routes):
    fake = routes.extra["anthropic"]
    body = {
        "max_tokens": 64,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_9",
                        "content": "sunny",
                        "is_error": False,
                    }
                ],
            },
        ],
        "tools": TOOLS,
    }
    message = client(routes).messages.create(model="claude-tools", **body, extra_body={"top_k": 3})
    assert fake.requests[-1] == {**body, "top_k": 3, "model": "claude-tools"}
    assert message.model == "claude-tools"
    assert message.id.startswith("msg_")
    assert message.stop_reason == "tool_use"
    assert [(b.id, b.name, b.input) for b in message.content[1:]] == list(TOOL_CALLS)
    assert message.usage.input_tokens == INPUT_TOKENS
    assert message.usage.output_tokens == output_tokens(fake.requests[-1], "claude-tools")
    record = routes.wait_for_records(1)[-1]
    assert (record["vendor"], record["interface"]) == ("anthropic", "anthropic")
    assert record["completion_tokens"] == message.usage.output_tokens


def test_beta_headers_reach_the_upstream(routes):
    fake = routes.extra["anthropic"]
    add_anthropic_route(
        routes, fake, "claude-beta", "claude-echo", options={"anthropic_beta": "route-beta"}
    )
    message = client(routes).beta.messages.create(
        model="claude-beta",
        max_tokens=20,
        messages=[{"role": "user", "content": "hi"}],
        betas=["client-beta-2025"],
    )
    assert message.content[0].text == "echo: hi"
    assert fake.headers[-1]["anthropic-beta"] == "route-beta,client-beta-2025"


def test_anthropic_route_streams_the_upstream_events(routes):
    fake = routes.extra["anthropic"]
    raw = client(routes).messages.with_raw_response.create(
        model="claude-tools",
        max_tokens=64,
        messages=[{"role": "user", "content": "weather?"}],
        tools=TOOLS,
        stream=True,
    )
    raw.http_response.read()
    names = [
        line.split(":", 1)[1].strip()
        for line in raw.http_response.text.splitlines()
        if line.startswith("event:")
    ]
    assert names[:4] == ["message_start", "content_block_start", "ping", "content_block_delta"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == 3
    assert '"model":"claude-tools"' in raw.http_response.text
    assert fake.requests[-1]["stream"] is True

    with client(routes).messages.stream(
        model="claude-tools",
        max_tokens=64,
        messages=[{"role": "user", "content": "weather?"}],
        tools=TOOLS,
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "echo: weather?"
    assert [(b.id, b.name, b.input) for b in final.content[1:]] == list(TOOL_CALLS)
    assert final.stop_reason == "tool_use"


def test_anthropic_route_cache_usage_streaming_and_cut_off(routes):
    with client(routes).messages.stream(
        model="claude-cached", max_tokens=64, messages=[{"role": "user", "content": "x y"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.usage.cache_read_input_tokens == CACHE_READ
    assert final.usage.cache_creation_input_tokens == CACHE_CREATION
    assert final.usage.input_tokens == INPUT_TOKENS
    record = routes.wait_for_records(1)[-1]
    assert record["prompt_tokens"] == INPUT_TOKENS + CACHE_READ + CACHE_CREATION
    assert (record["cache_read_tokens"], record["cache_creation_tokens"]) == (
        CACHE_READ,
        CACHE_CREATION,
    )
    assert record["completion_tokens"] == 3

    stream = client(routes).messages.create(
        model="claude-cached",
        max_tokens=500,
        messages=[{"role": "user", "content": "long"}],
        stream=True,
        extra_body={"fake_words": 200, "fake_delay": 0.01},
    )
    deltas = 0
    for event in stream:
        deltas += event.type == "content_block_delta"
        if deltas == 4:
            break
    stream.close()
    record = routes.wait_for_records(2)[-1]
    assert record["status"] == "cancelled" and record["usage_source"] == "partial"
    assert record["prompt_tokens"] == INPUT_TOKENS + CACHE_READ + CACHE_CREATION
    assert record["cache_read_tokens"] == CACHE_READ
    assert 4 <= record["completion_tokens"] < 200


def test_anthropic_route_error_event_mid_stream(routes):
    stream = client(routes).messages.create(
        model="claude-midstream",
        max_tokens=64,
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
    )
    with pytest.raises(anthropic.APIStatusError) as failed:
        for _event in stream:
            pass
    assert failed.value.body["error"]["type"] == "overloaded_error"
    record = routes.wait_for_records(1)[-1]
    assert record["status"] == "error" and record["prompt_tokens"] == INPUT_TOKENS


def test_anthropic_route_upstream_errors_keep_their_type(routes):
    with pytest.raises(anthropic.APIStatusError) as failed:
        client(routes).messages.create(
            model="claude-529", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert isinstance(failed.value, anthropic.OverloadedError)
    assert failed.value.status_code == 529
    assert failed.value.body["error"]["type"] == "overloaded_error"
    with pytest.raises(anthropic.APIStatusError) as too_large:
        client(routes).messages.create(
            model="claude-413", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert too_large.value.status_code == 413
    assert too_large.value.body["error"]["type"] == "request_too_large"
    assert "fake failure 413" in too_large.value.body["error"]["message"]
    with pytest.raises(anthropic.APIStatusError) as refused:
        client(routes).messages.create(
            model="claude-401", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert refused.value.status_code == 502  # the operator's provider key, not the caller's
    assert refused.value.body["error"]["type"] == "api_error"


# ------------------------------------------------------------- errors and auth


def test_errors_use_anthropic_envelope_and_types(routes):
    with pytest.raises(anthropic.AuthenticationError) as unauthenticated:
        client(routes, api_key="la-wrong").messages.create(
            model="mock", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert unauthenticated.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(routes).post(
            "/v1/messages",
            cast_to=object,
            body={"model": "mock", "messages": [{"role": "user", "content": "x"}]},
        )
    assert bad.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }
    with pytest.raises(anthropic.NotFoundError) as missing:
        client(routes).messages.create(
            model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.body["error"]["type"] == "not_found_error"
    limited = routes.create_key("limited", rpm=1)
    client(routes, api_key=limited).messages.create(
        model="mock", max_tokens=5, messages=[{"role": "user", "content": "x"}]
    )
    with pytest.raises(anthropic.RateLimitError) as throttled:
        client(routes, api_key=limited).messages.create(
            model="mock", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert throttled.value.body["error"]["type"] == "rate_limit_error"


def test_bearer_token_works_too(routes):
    message = client(routes, api_key=None, auth_token=routes.admin_key).messages.create(
        model="mock", max_tokens=20, messages=[{"role": "user", "content": "x"}]
    )
    assert message.content[0].text.startswith("This is the lowart mock model.")


# ------------------------------------------------------------- count_tokens


def test_count_tokens_asks_an_anthropic_upstream(routes):
    fake = routes.extra["anthropic"]
    counted = client(routes).messages.count_tokens(
        model="claude",
        system="Be brief.",
        messages=[{"role": "user", "content": "how many tokens is this?"}],
        tools=TOOLS,
    )
    assert counted.input_tokens == fake.counted[-1]
    assert fake.requests[-1]["model"] == "claude-echo"
    assert fake.requests[-1]["system"] == "Be brief."


def test_count_tokens_on_other_routes_uses_the_gateway_tokenizer(routes):
    body = {"model": "fake", "messages": [{"role": "user", "content": "count me please"}]}
    counted = client(routes).messages.count_tokens(**body)
    expected = count_prompt_tokens(
        anthropic_request_to_openai(body, require_max_tokens=False), "echo"
    )
    assert counted.input_tokens == expected > 0


def test_count_tokens_falls_back_when_the_upstream_is_unreachable(routes):
    routes.add_model(
        "claude-down", "anthropic", base_url="http://127.0.0.1:9", upstream_model="claude-x"
    )
    body = {"model": "claude-down", "messages": [{"role": "user", "content": "count me"}]}
    counted = client(routes).messages.count_tokens(**body)
    assert counted.input_tokens == count_prompt_tokens(
        anthropic_request_to_openai(body, require_max_tokens=False), "claude-x"
    )


# ------------------------------------------------------------- concurrency


async def test_async_sdk_concurrent_streams_on_both_kinds_of_route(routes):
    api = anthropic.AsyncAnthropic(
        base_url=routes.base_url, api_key=routes.admin_key, max_retries=0
    )

    async def one(index: int) -> tuple[str, str]:
        model = "claude" if index % 2 else "fake"
        async with api.messages.stream(
            model=model, max_tokens=50, messages=[{"role": "user", "content": f"n{index}"}]
        ) as stream:
            return model, "".join([text async for text in stream.text_stream])

    results = await asyncio.gather(*(one(i) for i in range(24)))
    for index, (model, text) in enumerate(results):
        assert text == (f"echo: n{index}" if model == "claude" else "w0 w1 w2 w3 w4 ")
    records = routes.wait_for_records(24)
    assert len(records) == 24 and {r["status"] for r in records} == {"ok"}
    await api.close()

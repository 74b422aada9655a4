"""Chat completions through the official openai SDK, against the mock and a fake upstream."""

from __future__ import annotations

import asyncio

import openai
import pytest

from lowart.accounting import count_text
from tests.support.fake_openai import UTF8_TEXT


def client(gateway, key=None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def test_mock_model_answers_without_vendor_keys(gateway):
    reply = client(gateway).chat.completions.create(
        model="mock", messages=[{"role": "user", "content": "ping"}]
    )
    assert reply.model == "mock"
    assert reply.choices[0].message.content == "This is the lowart mock model. You said: ping"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0


def test_mock_streams_word_by_word_with_usage(gateway):
    stream = client(gateway).chat.completions.create(
        model="mock",
        messages=[{"role": "user", "content": "one two"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    words = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(words) == "This is the lowart mock model. You said: one two"
    assert len(words) > 5
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens > 0


def test_non_streaming_pass_through_renames_model_and_keeps_unknown_fields(gateway):
    fake = gateway.extra["fake"]
    reply = client(gateway).chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "hello"}],
        temperature=0.2,
        extra_body={"vendor_specific": {"a": 1}},
    )
    assert reply.model == "fake"
    assert reply.choices[0].message.content == "echo: hello"
    assert reply.usage.total_tokens == 18
    sent = fake.requests[-1]
    assert sent["model"] == "echo"
    assert sent["vendor_specific"] == {"a": 1}
    assert sent["temperature"] == 0.2
    assert fake.headers[-1]["Authorization"] == "Bearer sk-upstream-secret"


def test_stream_without_include_usage_has_no_usage_chunk(gateway):
    chunks = list(
        client(gateway).chat.completions.create(
            model="fake", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "w0 w1 w2 w3 w4 "
    assert all(c.model == "fake" for c in chunks)
    # the gateway always asks the upstream for usage, so accounting stays exact
    assert gateway.extra["fake"].requests[-1]["stream_options"] == {"include_usage": True}
    records = gateway.wait_for_records(1)
    assert records[-1]["completion_tokens"] == 5 and records[-1]["usage_source"] == "upstream"


def test_stream_with_include_usage_relays_upstream_usage(gateway):
    chunks = list(
        client(gateway).chat.completions.create(
            model="fake",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage.prompt_tokens == 11
    assert chunks[-1].usage.completion_tokens == 5


def test_upstream_without_usage_is_counted_with_tiktoken(gateway):
    gateway.add_model(
        "nousage", "openai", base_url=gateway.extra["fake"].base_url, upstream_model="no-usage"
    )
    reply = client(gateway).chat.completions.create(
        model="nousage", messages=[{"role": "user", "content": "count me"}]
    )
    assert reply.usage.completion_tokens == count_text("echo: count me", "no-usage")
    chunks = list(
        client(gateway).chat.completions.create(
            model="nousage",
            messages=[{"role": "user", "content": "count me"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage.completion_tokens == count_text("w0 w1 w2 w3 w4 ", "no-usage")
    records = gateway.wait_for_records(2)
    assert [r["usage_source"] for r in records[-2:]] == ["counted", "counted"]


def test_multibyte_utf8_split_across_reads_survives(gateway):
    gateway.add_model(
        "utf8", "openai", base_url=gateway.extra["fake"].base_url, upstream_model="utf8"
    )
    chunks = list(
        client(gateway).chat.completions.create(
            model="utf8", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == UTF8_TEXT


def test_tool_calls_pass_through(gateway):
    gateway.add_model(
        "tools", "openai", base_url=gateway.extra["fake"].base_url, upstream_model="tools"
    )
    reply = client(gateway).chat.completions.create(
        model="tools",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": {"type": "object"}},
            }
        ],
    )
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and call.function.arguments == '{"city":"Paris"}'


async def test_async_sdk_64_concurrent_streams(gateway):
    api = openai.AsyncOpenAI(
        base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0
    )

    async def one(i: int) -> str:
        stream = await api.chat.completions.create(
            model="fake",
            messages=[{"role": "user", "content": f"n{i}"}],
            stream=True,
            extra_body={"fake_words": 20, "fake_delay": 0.005},
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    results = await asyncio.gather(*(one(i) for i in range(64)))
    assert all(r == "".join(f"w{k} " for k in range(20)) for r in results)
    await api.close()
    records = gateway.wait_for_records(64)
    assert len(records) == 64
    assert all(r["status"] == "ok" and r["completion_tokens"] == 20 for r in records)


def test_models_endpoint_lists_routes(gateway):
    names = {m.id for m in client(gateway).models.list()}
    assert {"mock", "fake"} <= names


def test_usage_record_fields(gateway):
    client(gateway).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "a"}]
    )
    record = gateway.wait_for_records(1)[-1]
    assert record["route"] == "fake"
    assert record["upstream_model"] == "echo"
    assert record["interface"] == "http"
    assert record["key_name"] == "test-admin"
    assert (record["prompt_tokens"], record["completion_tokens"]) == (11, 7)
    assert record["latency_ms"] > 0
    assert record["stream"] is False


@pytest.mark.parametrize("stream", [False, True])
def test_request_id_is_echoed(gateway, stream):
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="mock",
        messages=[{"role": "user", "content": "a"}],
        stream=stream,
        extra_headers={"x-request-id": "my-id-123"},
    )
    assert raw.headers["x-request-id"] == "my-id-123"


def test_upstream_connections_are_reused_across_streams(gateway):
    """A finished stream hands its upstream connection back to the pool."""
    api = client(gateway)
    for _ in range(5):
        list(
            api.chat.completions.create(
                model="fake", messages=[{"role": "user", "content": "x"}], stream=True
            )
        )
        api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "x"}])
    assert len(gateway.extra["fake"].connections) == 1

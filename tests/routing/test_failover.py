"""Retries, fallbacks, breakers and timeouts, end to end: the openai SDK against a live
gateway whose upstreams are fake OpenAI servers with injected faults."""

from __future__ import annotations

import json
import time

import openai
import pytest

from tests.support.fake_openai import FakeOpenAI, closed_port

FAST = {"retry_backoff": 0.01, "retry_backoff_max": 0.05}


def client(gateway, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def ask(gateway, model: str, **kw):
    return client(gateway).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], **kw
    )


def fallback(gateway, model: str, to: str, priority: int = 0) -> None:
    async def add() -> None:
        await gateway.runtime.admin.routing.add_fallback(model, to, priority)
        await gateway.runtime.reload()

    gateway.run(add())


def usage(gateway, count: int) -> list[dict]:
    """Usage records with their `extra` JSON decoded."""
    found = gateway.wait_for_records(count)
    for record in found:
        record["extra"] = json.loads(record["extra"]) if record["extra"] else None
    return found


def refused_url() -> str:
    return f"http://127.0.0.1:{closed_port()}/v1"


@pytest.fixture
def fake(gateway) -> FakeOpenAI:
    return gateway.extra["fake"]


def test_retryable_failures_are_retried_on_the_same_deployment(gateway, fake):
    gateway.add_model("r", "openai", base_url=fake.base_url, upstream_model="echo", options=FAST)
    fake.fail_next(2, 503)
    reply = ask(gateway, "r")
    assert reply.choices[0].message.content == "echo: hi"
    assert len(fake.requests) == 3
    records = usage(gateway, 1)
    assert len(records) == 1  # one record per client request, however many attempts
    assert records[0]["status"] == "ok" and records[0]["extra"]["attempts"] == 3
    assert [a["outcome"] for a in records[0]["extra"]["trail"]] == [
        "upstream_error",
        "upstream_error",
        "ok",
    ]


def test_client_errors_are_not_retried_nor_fallen_back(gateway, fake):
    gateway.add_model("r", "openai", base_url=fake.base_url, upstream_model="echo", options=FAST)
    gateway.add_model("spare", "openai", base_url=fake.base_url, upstream_model="echo")
    fallback(gateway, "r", "spare")
    fake.fail_next(1, 400)
    with pytest.raises(openai.BadRequestError):
        ask(gateway, "r")
    assert len(fake.requests) == 1


def test_retries_exhausted_then_the_error_reaches_the_client(gateway, fake):
    gateway.add_model(
        "r", "openai", base_url=fake.base_url, upstream_model="echo", options={**FAST, "retries": 1}
    )
    fake.fail_next(5, 500)
    with pytest.raises(openai.APIStatusError) as info:
        ask(gateway, "r")
    assert info.value.status_code == 502
    assert len(fake.requests) == 2
    record = usage(gateway, 1)[0]
    assert record["status"] == "error" and record["extra"]["attempts"] == 2


def test_retry_after_is_honoured(gateway, fake):
    gateway.add_model("r", "openai", base_url=fake.base_url, upstream_model="echo", options=FAST)
    fake.fail_next(1, 429, retry_after="1")
    started = time.monotonic()
    ask(gateway, "r")
    assert time.monotonic() - started >= 0.95
    assert len(fake.requests) == 2


def test_a_long_retry_after_moves_on_to_the_fallback_at_once(gateway, fake):
    gateway.add_model(
        "r",
        "openai",
        base_url=fake.base_url,
        upstream_model="primary-upstream",
        options={**FAST, "max_retry_wait": 2},
    )
    gateway.add_model("spare", "openai", base_url=fake.base_url, upstream_model="spare-upstream")
    fallback(gateway, "r", "spare")
    fake.fail_next(1, 429, retry_after="30")
    started = time.monotonic()
    reply = ask(gateway, "r")
    assert time.monotonic() - started < 1.5
    assert reply.model == "spare"
    assert [r["model"] for r in fake.requests] == ["primary-upstream", "spare-upstream"]


def test_upstream_429_after_all_tries_keeps_its_retry_after(gateway, fake):
    gateway.add_model(
        "r", "openai", base_url=fake.base_url, upstream_model="echo", options={"retries": 0}
    )
    fake.fail_next(1, 429, retry_after="7")
    raw = client(gateway).chat.completions.with_raw_response
    with pytest.raises(openai.RateLimitError) as info:
        raw.create(model="r", messages=[{"role": "user", "content": "x"}])
    assert info.value.response.headers["Retry-After"] == "7"


def test_fallback_chain_in_priority_order_several_levels_deep(gateway, fake):
    gateway.add_model("a", "openai", base_url=refused_url(), options={**FAST, "retries": 1})
    gateway.add_model("b", "openai", base_url=fake.base_url, upstream_model="fail-500")
    gateway.add_model("b2", "openai", base_url=fake.base_url, upstream_model="never-reached")
    gateway.add_model("c", "openai", base_url=fake.base_url, upstream_model="c-upstream")
    gateway.add_model("z", "openai", base_url=fake.base_url, upstream_model="z-upstream")
    fallback(gateway, "a", "z", priority=5)
    fallback(gateway, "a", "b", priority=1)
    fallback(gateway, "b", "c")  # second level: a -> b -> c
    gateway.run(gateway.runtime.admin.update_model("b", options={**FAST, "retries": 0}))
    gateway.run(gateway.runtime.reload())
    reply = ask(gateway, "a")
    assert reply.model == "c"
    # a was refused twice (no request reached the fake), b failed once, c answered
    assert [r["model"] for r in fake.requests] == ["fail-500", "c-upstream"]
    record = usage(gateway, 1)[0]
    assert record["route"] == "c" and record["upstream_model"] == "c-upstream"
    extra = record["extra"]
    assert extra["requested_model"] == "a" and extra["fallbacks"] == ["b", "c"]
    assert [(a["route"], a["outcome"]) for a in extra["trail"]] == [
        ("a", "upstream_unavailable"),
        ("a", "upstream_unavailable"),
        ("b", "upstream_error"),
        ("c", "ok"),
    ]


def test_stream_retried_before_the_first_byte(gateway, fake):
    gateway.add_model("r", "openai", base_url=fake.base_url, upstream_model="echo", options=FAST)
    fake.fail_next(1, 0)  # connection cut before any byte
    fake.fail_next(1, 502)
    chunks = list(ask(gateway, "r", stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "w0 w1 w2 w3 w4 "
    )
    assert len(fake.requests) == 3
    record = usage(gateway, 1)[0]
    assert record["status"] == "ok" and record["extra"]["attempts"] == 3


def test_stream_dying_midway_is_not_retried(gateway, fake):
    gateway.add_model("d", "openai", base_url=fake.base_url, upstream_model="drop", options=FAST)
    gateway.add_model("spare", "openai", base_url=fake.base_url, upstream_model="echo")
    fallback(gateway, "d", "spare")
    stream = ask(gateway, "d", stream=True)
    text = ""
    with pytest.raises(openai.APIError):
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
    assert text == "w0 w1 w2 "  # the client saw these bytes: no replay from another upstream
    assert len(fake.requests) == 1
    record = usage(gateway, 1)[0]
    assert record["status"] == "error" and record["completion_tokens"] > 0


def test_slow_first_byte_times_out_and_falls_back(gateway, fake):
    gateway.add_model(
        "slowpoke",
        "openai",
        base_url=fake.base_url,
        upstream_model="slow",
        options={"first_byte_timeout": 0.3, "retries": 0},
    )
    gateway.add_model("spare", "mock")  # the mock ignores fake_delay, which slows the fake
    fallback(gateway, "slowpoke", "spare")
    for stream in (False, True):
        started = time.monotonic()
        result = ask(gateway, "slowpoke", stream=stream, extra_body={"fake_delay": 3})
        models = {c.model for c in result} if stream else {result.model}
        assert models == {"spare"}
        assert time.monotonic() - started < 2
    records = usage(gateway, 2)
    assert all(r["extra"]["trail"][0]["outcome"] == "upstream_timeout" for r in records)


def test_total_timeout_ends_a_long_stream_in_band(gateway, fake):
    gateway.add_model(
        "long",
        "openai",
        base_url=fake.base_url,
        upstream_model="echo",
        options={"total_timeout": 0.5},
    )
    stream = ask(gateway, "long", stream=True, extra_body={"fake_words": 50, "fake_delay": 0.05})
    seen = 0
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            seen += bool(chunk.choices)
    assert 2 < seen < 50
    assert "total timeout" in str(info.value)
    record = usage(gateway, 1)[0]
    assert record["error_code"] == "upstream_timeout"


def test_connection_refused_is_a_fast_failure(gateway):
    gateway.add_model("gone", "openai", base_url=refused_url(), options={**FAST, "retries": 0})
    with pytest.raises(openai.APIStatusError) as info:
        ask(gateway, "gone")
    assert info.value.status_code == 502
    assert info.value.body["code"] == "upstream_unavailable"

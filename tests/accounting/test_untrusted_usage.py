"""Upstream usage and replies are untrusted: odd ones never reach the store or the
client as a 500, and never stop later requests from being recorded."""

from __future__ import annotations

import aiohttp
import openai
import orjson
import pytest

from lowart.accounting import MAX_TOKENS, CheckedUsage, checked_usage
from lowart.store import TOKEN_COLUMN_MAX
from tests.support.fake_openai import BAD_CHOICES, BAD_USAGE

MESSAGES = [{"role": "user", "content": "hello there"}]


def test_two_counts_fit_the_stores_token_columns():
    assert 2 * MAX_TOKENS <= TOKEN_COLUMN_MAX


def test_checked_usage_clamps_counts_and_rejects_malformed_ones():
    assert checked_usage({"prompt_tokens": 3, "completion_tokens": 2}) == CheckedUsage(3, 2)
    assert checked_usage({"prompt_tokens": -3, "completion_tokens": 2**70}) == CheckedUsage(
        0, MAX_TOKENS
    )
    assert checked_usage({"prompt_tokens": 3.0, "completion_tokens": 2}) == CheckedUsage(3, 2)
    for bad in ("x", None, {}, {"prompt_tokens": "abc", "completion_tokens": 1}):
        assert checked_usage(bad) is None
    assert checked_usage({"prompt_tokens": True, "completion_tokens": 1}) is None
    odd_details = {"prompt_tokens": 5, "completion_tokens": 1, "prompt_tokens_details": "x"}
    assert checked_usage(odd_details) == CheckedUsage(5, 1, 0, 0)
    assert CheckedUsage(5, 1).as_openai(odd_details) == {
        "prompt_tokens": 5,
        "completion_tokens": 1,
        "total_tokens": 6,
    }


def _route_to(gateway, upstream_model: str) -> str:
    gateway.add_model(
        upstream_model,
        "openai",
        base_url=gateway.extra["fake"].base_url,
        upstream_model=upstream_model,
        api_key="sk-upstream-secret",
    )
    return upstream_model


def _client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)


def _raw_stream(gateway, model: str) -> list[bytes]:
    """The SSE events exactly as sent, `[DONE]` included."""

    async def post() -> bytes:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                gateway.openai_base_url + "/chat/completions",
                json={"model": model, "messages": MESSAGES, "stream": True},
                headers={"Authorization": f"Bearer {gateway.admin_key}"},
            ) as response,
        ):
            assert response.status == 200
            return await response.read()

    body = gateway.run(post())
    return [event.removeprefix(b"data: ") for event in body.split(b"\n\n") if event]


def _used_tokens(gateway, key_id: int) -> int:
    return gateway.run(gateway.runtime.admin.usage.used_tokens(key_id))


def _assert_later_requests_are_recorded(gateway, before: int) -> None:
    _client(gateway).chat.completions.create(model="fake", messages=MESSAGES)
    records = gateway.wait_for_records(before + 1)
    assert len(records) == before + 1 and records[-1]["route"] == "fake"
    assert gateway.runtime.usage_writer.quarantined == 0  # nothing reached the store unsafe


@pytest.mark.parametrize("mode", sorted(BAD_CHOICES))
def test_a_malformed_reply_is_a_502_and_still_recorded(gateway, mode):
    model = _route_to(gateway, mode)
    with pytest.raises(openai.APIStatusError) as raised:
        _client(gateway).chat.completions.create(model=model, messages=MESSAGES)
    assert raised.value.status_code == 502
    assert "bad reply" in raised.value.message
    [record] = gateway.wait_for_records(1)
    assert (record["route"], record["status"], record["http_status"]) == (model, "error", 502)
    assert record["prompt_tokens"] == 11  # what the upstream reported it used
    _assert_later_requests_are_recorded(gateway, 1)


@pytest.mark.parametrize("mode", sorted(BAD_CHOICES))
def test_a_malformed_stream_chunk_ends_in_band_and_is_recorded(gateway, mode):
    model = _route_to(gateway, mode)
    events = _raw_stream(gateway, model)
    assert events[-1] == b"[DONE]"
    error = orjson.loads(events[-2])
    assert "bad stream chunk" in error["error"]["message"]
    [record] = gateway.wait_for_records(1)
    assert (record["status"], record["http_status"], record["stream"]) == ("error", 502, True)
    assert record["completion_tokens"] > 0  # the first word did reach the client
    _assert_later_requests_are_recorded(gateway, 1)


@pytest.mark.parametrize("stream", [False, True], ids=["reply", "stream"])
@pytest.mark.parametrize("mode", sorted(BAD_USAGE))
def test_untrusted_usage_is_clamped_or_counted(gateway, mode, stream):
    model = _route_to(gateway, mode)
    api = _client(gateway)
    api.chat.completions.create(model="fake", messages=MESSAGES)
    [first] = gateway.wait_for_records(1)
    used_before = _used_tokens(gateway, first["key_id"])
    if stream:
        chunks = list(
            api.chat.completions.create(
                model=model,
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        usage = chunks[-1].usage
    else:
        usage = api.chat.completions.create(model=model, messages=MESSAGES).usage
    record = gateway.wait_for_records(2)[-1]
    assert record["route"] == model and record["status"] == "ok"
    for name in ("prompt_tokens", "completion_tokens"):
        assert 0 <= record[name] <= MAX_TOKENS
    assert record["total_tokens"] == record["prompt_tokens"] + record["completion_tokens"]
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        record["prompt_tokens"],
        record["completion_tokens"],
    )  # the client is told what was booked
    if mode in ("usage-string", "usage-not-object"):
        assert record["usage_source"] == "counted" and record["prompt_tokens"] > 0
    if mode == "usage-huge":
        assert record["prompt_tokens"] == MAX_TOKENS
    assert _used_tokens(gateway, first["key_id"]) >= used_before  # never reduced
    _assert_later_requests_are_recorded(gateway, 2)


def test_malformed_replies_give_back_their_concurrency_slots(gateway):
    """Issue 18: after two malformed replies a --concurrency 2 key was refused until a
    restart. Every admission is settled however the request ends."""
    name = _route_to(gateway, "choices-string")
    key = gateway.create_key("two-at-a-time", concurrency=2)
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    messages = [{"role": "user", "content": "hi"}]
    for _ in range(3):
        with pytest.raises(openai.APIStatusError) as failed:
            api.chat.completions.create(model=name, messages=messages)
        assert failed.value.status_code == 502
        with pytest.raises(openai.APIError):
            list(api.chat.completions.create(model=name, messages=messages, stream=True))
    for _ in range(2):  # both slots are free again
        reply = api.chat.completions.create(model="mock", messages=messages)
        assert reply.choices[0].message.content

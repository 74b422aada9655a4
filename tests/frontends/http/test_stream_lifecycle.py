"""Streams that end early still leave exactly one usage record with the generated tokens."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from lowart.accounting import count_text
from tests.support.waiting import wait_until


async def _read_events(resp: aiohttp.ClientResponse, count: int) -> list[bytes]:
    events = []
    async for line in resp.content:
        if line.startswith(b"data: "):
            events.append(line)
            if len(events) == count:
                break
    return events


async def test_client_disconnect_mid_stream_cancels_upstream_and_records_usage(gateway):
    fake = gateway.extra["fake"]
    body = {
        "model": "fake",
        "stream": True,
        "messages": [{"role": "user", "content": "long story"}],
        "fake_words": 200,
        "fake_delay": 0.02,
    }
    headers = {"Authorization": f"Bearer {gateway.admin_key}"}
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            gateway.openai_base_url + "/chat/completions", json=body, headers=headers
        )
        assert resp.status == 200
        events = await _read_events(resp, 5)
        assert len(events) == 5
        resp.close()  # the client goes away mid-stream
    records = gateway.wait_for_records(1)
    assert len(records) == 1
    record = records[0]
    assert record["status"] == "cancelled"
    assert record["usage_source"] == "counted"
    generated = record["completion_tokens"]
    assert generated >= count_text("w0 w1 w2 w3 w4 ", "echo")  # at least what the client saw
    assert generated < count_text("".join(f"w{i} " for i in range(200)), "echo")
    assert record["prompt_tokens"] > 0
    assert await asyncio.to_thread(wait_until, lambda: fake.streams_cancelled >= 1)
    assert fake.streams_cancelled == 1 and fake.streams_finished == 0


async def test_stream_of_mock_with_delay_cancelled_records_usage(gateway):
    gateway.add_model("slowmock", "mock", options={"delay": 0.05})
    body = {
        "model": "slowmock",
        "stream": True,
        "messages": [{"role": "user", "content": "a b c d e f g h i j"}],
    }
    headers = {"Authorization": f"Bearer {gateway.admin_key}"}
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            gateway.openai_base_url + "/chat/completions", json=body, headers=headers
        )
        await _read_events(resp, 3)
        resp.close()
    record = gateway.wait_for_records(1)[0]
    assert record["status"] == "cancelled" and record["completion_tokens"] > 0


def test_one_record_per_request_whatever_the_outcome(gateway):
    import openai

    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "a"}])
    list(
        api.chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "a"}], stream=True
        )
    )
    try:
        api.chat.completions.create(model="missing", messages=[{"role": "user", "content": "a"}])
    except openai.NotFoundError:
        pass
    records = gateway.wait_for_records(2)
    time.sleep(0.3)
    records = gateway.usage_records()
    # the unknown model never reached routing, so it leaves no record
    assert [(r["route"], r["stream"], r["status"]) for r in records] == [
        ("mock", False, "ok"),
        ("mock", True, "ok"),
    ]
    assert len({r["request_id"] for r in records}) == 2

"""Per-key limits in this process: RPM, TPM and quota, answered as OpenAI 429s."""

from __future__ import annotations

import asyncio

import aiohttp
import openai
import pytest

from lowart.auth import InProcessLimiter
from lowart.errors import QuotaExceeded, RateLimited
from lowart.types import Principal


def test_rpm_admits_exactly_the_limit():
    limiter = InProcessLimiter()
    key = Principal(key_id=1, name="k", rpm=50)
    admitted = 0
    for _ in range(200):
        try:
            limiter.admit(key, 0)
            admitted += 1
        except RateLimited as exc:
            assert exc.retry_after is not None and 0 < exc.retry_after <= 60
    assert admitted == 50


def test_tpm_settles_to_real_usage():
    limiter = InProcessLimiter()
    key = Principal(key_id=1, name="k", tpm=1000)
    first = limiter.admit(key, 900)
    with pytest.raises(RateLimited):
        limiter.admit(key, 200)
    first.settle(100)  # it really used far less than estimated
    limiter.admit(key, 800)


def test_quota_counts_reservations_and_history():
    limiter = InProcessLimiter()
    key = Principal(key_id=1, name="k", quota_tokens=1000)
    a = limiter.admit(key, 400, used_at_load=300)
    with pytest.raises(QuotaExceeded):
        limiter.admit(key, 400)
    a.settle(50)
    limiter.admit(key, 600)
    with pytest.raises(QuotaExceeded) as info:
        limiter.admit(key, 100)
    assert info.value.code == "insufficient_quota"


async def test_rpm_over_http_is_429_with_retry_after(gateway):
    key = gateway.create_key("limited", rpm=3)
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "mock", "messages": [{"role": "user", "content": "x"}]}
    async with aiohttp.ClientSession() as session:

        async def one():
            async with session.post(
                gateway.openai_base_url + "/chat/completions", json=body, headers=headers
            ) as r:
                return r.status, r.headers.get("Retry-After"), await r.json()

        results = await asyncio.gather(*(one() for _ in range(10)))
    statuses = sorted(s for s, _, _ in results)
    assert statuses == [200] * 3 + [429] * 7
    rejected = next(r for r in results if r[0] == 429)
    assert int(rejected[1]) >= 1
    assert rejected[2]["error"]["code"] == "rate_limit_exceeded"
    records = gateway.wait_for_records(3)
    assert len(records) == 3  # rejected requests leave no usage


def test_quota_exhausted_is_insufficient_quota(gateway):
    key = gateway.create_key("tiny", quota=60)
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    api.chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "x"}], max_tokens=10
    )
    with pytest.raises(openai.RateLimitError) as info:
        for _ in range(5):
            api.chat.completions.create(
                model="fake", messages=[{"role": "user", "content": "x"}], max_tokens=10
            )
    assert info.value.body["code"] == "insufficient_quota"

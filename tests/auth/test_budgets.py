"""Spending budgets: counted like the token quota (reserve the estimate, settle the
real cost), in this process and in Redis, never overshooting by more than one request."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import anthropic
import openai
import pytest

from lowart.auth import InProcessLimiter, RedisLimiter, connect_redis
from lowart.errors import QuotaExceeded
from lowart.types import Price, Principal
from tests.support.servers import start_gateway, stop_gateway, test_settings

D = Decimal
# One unit per completion token, prompts free: a request's cost is its completion.
PER_TOKEN = Price(input=D(0), output=D(1_000_000))


def _key(budget: str, period: str = "total") -> Principal:
    return Principal(key_id=7, name="k", budget=D(budget), budget_period=period)


async def test_reserve_the_estimate_and_settle_the_real_cost():
    limiter = InProcessLimiter()
    principal = _key("30")
    first = await limiter.acquire(principal, 0)
    await first.reserve(5, 20, PER_TOKEN)  # 20 reserved
    second = await limiter.acquire(principal, 0)
    with pytest.raises(QuotaExceeded, match=r"budget of 30 for key 'k' is used up \(20 spent"):
        await second.reserve(5, 11, PER_TOKEN)  # 20 + 11 > 30
    second.settle(0)
    first.settle(25, D(12))  # 12 spent: 18 left
    third = await limiter.acquire(principal, 0)
    await third.reserve(1, 18, PER_TOKEN)
    third.settle(19, D("18.5"))  # costs more than estimated: 30.5 spent (one request over)
    with pytest.raises(QuotaExceeded) as refused:
        await limiter.acquire(principal, 0)
    assert refused.value.code == "insufficient_quota" and refused.value.retry_after is None


async def test_without_a_completion_limit_all_that_remains_is_reserved():
    limiter = InProcessLimiter()
    principal = _key("10", "day")
    first = await limiter.acquire(principal, 0)
    await first.reserve(3, None, PER_TOKEN)
    with pytest.raises(QuotaExceeded) as refused:  # all of it is reserved
        await limiter.acquire(principal, 0)
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    first.settle(7, D(4))
    third = await limiter.acquire(principal, 0)
    await third.reserve(3, 6, PER_TOKEN)  # 4 + 6 = 10 fits exactly
    third.settle(0)


async def test_the_budget_starts_from_what_the_store_says_was_spent():
    async def spent(key_id: int, since: object) -> Decimal:
        assert key_id == 7 and since is None
        return D("9.999999999")

    limiter = InProcessLimiter(spent=spent)
    admission = await limiter.acquire(_key("10"), 0)
    await admission.reserve(0, 0, PER_TOKEN)
    with pytest.raises(QuotaExceeded):
        await (await limiter.acquire(_key("10"), 0)).reserve(0, 1, PER_TOKEN)


async def test_a_route_without_price_costs_nothing():
    limiter = InProcessLimiter()
    admission = await limiter.acquire(_key("1"), 0)
    await admission.reserve(10**6, 10**6, None)
    admission.settle(2 * 10**6, None)
    await (await limiter.acquire(_key("1"), 0)).reserve(1, 1, PER_TOKEN)


async def test_redis_counts_budgets_like_the_process(redis_service):
    """The same sequence as in process, through the Lua scripts (two 'processes')."""

    async def spent(key_id: int, since: object) -> Decimal:
        return D("1.5")

    client = connect_redis(redis_service.url)
    try:
        await _budget_in_redis(
            RedisLimiter(client, prefix=redis_service.prefix, spent=spent),
            RedisLimiter(client, prefix=redis_service.prefix, spent=spent),
        )
    finally:
        await client.aclose()


async def _budget_in_redis(one: RedisLimiter, two: RedisLimiter) -> None:
    principal = _key("30", "month")
    first = await one.acquire(principal, 0)
    await first.reserve(5, 20, PER_TOKEN)  # 1.5 + 20
    second = await two.acquire(principal, 0)
    with pytest.raises(QuotaExceeded, match=r"used up \(21.5 spent"):
        await second.reserve(5, 9, PER_TOKEN)
    second.settle(0)
    first.settle(25, D("12.000000001"))
    await one.drain()
    await two.drain()
    third = await two.acquire(principal, 0)
    await third.reserve(1, None, PER_TOKEN)  # everything that remains: 16.499999999
    with pytest.raises(QuotaExceeded):
        await (await one.acquire(principal, 0)).reserve(1, 1, PER_TOKEN)
    third.settle(20, D(17))
    await two.drain()
    with pytest.raises(QuotaExceeded, match=r"used up \(30.500000001 spent"):
        await one.acquire(principal, 0)


@pytest.fixture(params=["in-process", "redis"])
def priced_gateway(request, loop_thread, tmp_path):
    """A live gateway (limits in this process or in Redis) with `words`: a mock route
    whose 12-word reply costs one unit per completion token."""
    overrides = {}
    if request.param == "redis":
        service = request.getfixturevalue("redis_service")
        overrides = {"redis_url": service.url, "redis_prefix": service.prefix}
    handle = start_gateway(loop_thread, test_settings(tmp_path, **overrides))
    handle.add_model(
        "words",
        "mock",
        options={"reply": " ".join(["word"] * 12)},
        price_in="0",
        price_out="1000000",
    )
    yield handle
    stop_gateway(handle)


def _drain(gateway) -> None:
    limiter = gateway.runtime.gateway._limiter
    if isinstance(limiter, RedisLimiter):
        gateway.run(limiter.drain())


async def _openai_burst(gateway, key: str, count: int, **body) -> list[str | None]:
    """`count` concurrent calls with the official async client: None or the error code."""
    client = openai.AsyncOpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)

    async def one() -> str | None:
        try:
            await client.chat.completions.create(
                model="words", messages=[{"role": "user", "content": "hi"}], **body
            )
        except openai.RateLimitError as exc:
            assert exc.status_code == 429 and exc.body["type"] == "insufficient_quota"
            return str(exc.body["code"])
        return None

    async with client:
        return await asyncio.gather(*(one() for _ in range(count)))


async def _anthropic_burst(gateway, key: str, count: int) -> list[str | None]:
    client = anthropic.AsyncAnthropic(base_url=gateway.base_url, api_key=key, max_retries=0)

    async def one() -> str | None:
        try:
            await client.messages.create(
                model="words", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
            )
        except anthropic.RateLimitError as exc:
            assert exc.status_code == 429 and "Spending budget" in exc.body["error"]["message"]
            return "insufficient_quota"
        return None

    async with client:
        return await asyncio.gather(*(one() for _ in range(count)))


@pytest.mark.parametrize("max_tokens", [20, None])
def test_a_burst_never_overshoots_the_budget_by_more_than_one_request(
    priced_gateway, loop_thread, max_tokens
):
    budget = 100
    key = priced_gateway.create_key("burst", budget=str(budget), budget_period="day")
    body = {"max_tokens": max_tokens} if max_tokens else {}
    admitted = 0
    outcomes: list[str | None] = []
    for _ in range(12):  # bursts until the budget is spent (settling frees room)
        outcomes = asyncio.run(_openai_burst(priced_gateway, key, 12, **body))
        admitted += outcomes.count(None)
        _drain(priced_gateway)
        if outcomes.count(None) == 0:
            break
    assert set(outcomes) == {"insufficient_quota"}, "the budget must be spent by now"
    records = priced_gateway.wait_for_records(admitted)
    assert len(records) == admitted
    one_request = max(r["cost"] for r in records)
    spent = sum(r["cost"] for r in records)
    assert one_request == 12  # 12 completion tokens at one unit each
    assert spent <= budget + one_request  # at most one request past the budget
    # ...and the budget was really used: refused only once the next estimate (max_tokens
    # at the output rate) did not fit, or (no limit) once nothing remained at all.
    assert spent > budget - (max_tokens or 0) or spent == budget
    status, keys = priced_gateway.admin_call("GET", "/admin/keys")
    assert status == 200
    assert D(next(k for k in keys["data"] if k["name"] == "burst")["spent"]) == spent


def test_an_anthropic_burst_is_held_to_the_budget(priced_gateway):
    key = priced_gateway.create_key("claude-burst", budget="50")
    outcomes = asyncio.run(_anthropic_burst(priced_gateway, key, 20))
    _drain(priced_gateway)
    admitted = outcomes.count(None)
    assert 0 < admitted < 20 and "insufficient_quota" in outcomes
    records = priced_gateway.wait_for_records(admitted)
    assert sum(r["cost"] for r in records) <= 50 + 12
    assert {r["interface"] for r in records} == {"anthropic"}

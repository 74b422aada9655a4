"""Limits under concurrency, in process and in Redis: exact RPM, no token overshoot,
concurrency slots released on every exit, quotas per period, keys updated live."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter

import aiohttp
import openai
import pytest

from lowart.auth import InProcessLimiter, RedisLimiter, connect_redis
from lowart.errors import QuotaExceeded, RateLimited
from lowart.types import Principal
from tests.support.servers import start_gateway, stop_gateway, test_settings


@pytest.fixture(params=["in-process", "redis"])
def limited_gateway(request, loop_thread, tmp_path, fake_openai):
    """A live gateway whose limits live in this process, or in this machine's Redis."""
    overrides = {}
    if request.param == "redis":
        service = request.getfixturevalue("redis_service")
        overrides = {"redis_url": service.url, "redis_prefix": service.prefix}
    handle = start_gateway(loop_thread, test_settings(tmp_path, **overrides))
    handle.add_model("fake", "openai", base_url=fake_openai.base_url, upstream_model="echo")
    handle.extra["fake"] = fake_openai
    # a fixed 12-word reply: its real usage is always below the estimate's max_tokens
    handle.add_model("words", "mock", options={"reply": " ".join(["word"] * 12)})
    handle.add_model("slowstream", "mock", options={"delay": 0.05})
    yield handle
    stop_gateway(handle)


async def _post_many(gateway, key: str, count: int, **body) -> list[tuple[int, dict, str | None]]:
    payload = {"model": "words", "messages": [{"role": "user", "content": "hi"}], **body}
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> tuple[int, dict, str | None]:
            async with session.post(
                gateway.openai_base_url + "/chat/completions", json=payload, headers=headers
            ) as resp:
                return resp.status, await resp.json(), resp.headers.get("Retry-After")

        return await asyncio.gather(*(one() for _ in range(count)))


def post_many(gateway, key: str, count: int, **body):
    return asyncio.run(_post_many(gateway, key, count, **body))


def settle(gateway) -> None:
    """Redis settles off the request path: wait until it has."""
    limiter = gateway.runtime.gateway._limiter
    if isinstance(limiter, RedisLimiter):
        gateway.run(limiter.drain())


def test_200_concurrent_requests_against_rpm_50_admit_exactly_50(limited_gateway):
    key = limited_gateway.create_key("rpm50", rpm=50)
    results = post_many(limited_gateway, key, 200)
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: 50, 429: 150}
    rejected = [(body, retry) for status, body, retry in results if status == 429]
    assert all(b["error"]["code"] == "rate_limit_exceeded" for b, _ in rejected)
    assert all(b["error"]["type"] == "rate_limit_error" for b, _ in rejected)
    assert all(1 <= int(retry) <= 60 for _, retry in rejected)
    records = limited_gateway.wait_for_records(50)
    assert len(records) == 50  # rejected requests leave no usage and no tokens


def test_tpm_never_overshoots_by_more_than_one_estimate(limited_gateway):
    tpm, max_tokens = 400, 20
    key = limited_gateway.create_key("tpm", tpm=tpm)
    admitted = 0
    for _ in range(3):  # settling frees room (real usage < estimate); bursts reuse it
        results = post_many(limited_gateway, key, 60, max_tokens=max_tokens)
        admitted += sum(status == 200 for status, _, _ in results)
        assert {s for s, _, _ in results} <= {200, 429}
        settle(limited_gateway)
    records = limited_gateway.wait_for_records(admitted)
    assert len(records) == admitted and admitted > 10
    estimate = max(r["prompt_tokens"] for r in records) + max_tokens
    used = sum(r["total_tokens"] for r in records)
    assert used <= tpm + estimate
    assert used > tpm - 2 * estimate  # and the limit was really used, not refused early


def test_quota_never_overshoots_and_reports_insufficient_quota(limited_gateway):
    quota, max_tokens = 300, 20
    key = limited_gateway.create_key("quota", quota=quota, quota_period="day")
    admitted = 0
    last = []
    for _ in range(3):
        last = post_many(limited_gateway, key, 40, max_tokens=max_tokens)
        admitted += sum(status == 200 for status, _, _ in last)
        settle(limited_gateway)
    records = limited_gateway.wait_for_records(admitted)
    estimate = max(r["prompt_tokens"] for r in records) + max_tokens
    assert sum(r["total_tokens"] for r in records) <= quota + estimate
    refused = [(body, retry) for status, body, retry in last if status == 429]
    assert refused, "the quota must be exhausted by now"
    body, retry = refused[0]
    assert body["error"]["code"] == "insufficient_quota"
    assert body["error"]["type"] == "insufficient_quota"
    assert "for today" in body["error"]["message"]
    assert 1 <= int(retry) <= 86400  # until the next UTC day


@pytest.mark.parametrize("limit", [{"quota": 3000, "quota_period": "day"}, {"tpm": 3000}])
def test_without_max_tokens_a_burst_overshoots_by_at_most_one_request(limited_gateway, limit):
    """A request without max_tokens reserves all that remains, so 20 concurrent ones whose
    real answers are far longer than any guess cannot run the key 8x over (issue 18)."""
    gateway = limited_gateway
    reply = " ".join(["word"] * 1000)
    gateway.add_model("long", "mock", options={"reply": reply, "latency": 0.3})  # all overlap
    key = gateway.create_key("nomax", **limit)
    results = post_many(gateway, key, 20, model="long")
    assert {status for status, _, _ in results} <= {200, 429}
    admitted = sum(status == 200 for status, _, _ in results)
    records = gateway.wait_for_records(admitted)
    one_request = max(r["total_tokens"] for r in records)
    assert one_request > 1000  # the answers are long ...
    used = sum(r["total_tokens"] for r in records)
    assert used <= 3000 + one_request  # ... yet the burst stays within one request of the limit


def test_a_refused_key_is_refused_before_its_prompt_is_counted(limited_gateway):
    """count_tokens spends the request rate, and a key over its rate gets its 429 without
    the gateway tokenizing megabytes first: /health stays responsive meanwhile."""
    gateway = limited_gateway
    key = gateway.create_key("rpm1", rpm=1, tpm=10**9)
    big = {
        "model": "words",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "lorem ipsum dolor sit amet " * 150_000}],
    }
    headers = {"Authorization": f"Bearer {key}", "anthropic-version": "2023-06-01"}

    async def scenario() -> tuple[list[int], float]:
        async with aiohttp.ClientSession() as session:
            count_url = gateway.base_url + "/v1/messages/count_tokens"
            async with session.post(count_url, json=big, headers=headers) as first:
                assert first.status == 200  # the one request this minute allows
            worst = 0.0

            async def probe() -> None:
                nonlocal worst
                for _ in range(15):
                    started = asyncio.get_running_loop().time()
                    async with session.get(gateway.base_url + "/health") as health:
                        assert health.status == 200
                    worst = max(worst, asyncio.get_running_loop().time() - started)
                    await asyncio.sleep(0.02)

            async def refused(url: str) -> int:
                async with session.post(url, json=big, headers=headers) as resp:
                    return resp.status

            statuses = await asyncio.gather(
                refused(count_url),
                refused(gateway.openai_base_url + "/chat/completions"),
                probe(),
            )
            return [s for s in statuses if s is not None], worst

    statuses, worst = asyncio.run(scenario())
    assert statuses == [429, 429]
    assert worst < 1.0  # tokenizing ~4 MiB on the event loop took seconds


def test_concurrency_slots_are_released_on_every_exit(limited_gateway):
    gateway = limited_gateway
    key = gateway.create_key("conc", concurrency=2)
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    messages = [{"role": "user", "content": "one two three four five six seven eight"}]
    first = api.chat.completions.create(model="slowstream", messages=messages, stream=True)
    second = api.chat.completions.create(model="slowstream", messages=messages, stream=True)
    next(iter(first))
    with pytest.raises(openai.RateLimitError) as info:
        api.chat.completions.create(model="words", messages=messages)
    assert "in flight" in info.value.body["message"]
    first.close()  # client disconnect mid-stream
    list(second)  # normal end
    settle(gateway)
    gateway.wait_for_records(2)
    # upstream failure, then success: each releases its slot
    gateway.add_model(
        "broken-really",
        "openai",
        base_url=gateway.extra["fake"].base_url,
        upstream_model="fail-400",
    )
    for _ in range(3):
        with pytest.raises(openai.BadRequestError):
            api.chat.completions.create(model="broken-really", messages=messages)
        settle(gateway)
    results = post_many(gateway, key, 2)
    assert [s for s, _, _ in results] == [200, 200]


def test_keys_update_through_the_admin_api_applies_at_once(limited_gateway):
    gateway = limited_gateway
    key = gateway.create_key("team", rpm=100)

    async def patch(body: dict) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {gateway.admin_key}"}
        async with (
            aiohttp.ClientSession() as session,
            session.patch(gateway.base_url + "/admin/keys/team", json=body, headers=headers) as r,
        ):
            return r.status, await r.json()

    status, info = asyncio.run(patch({"rpm": 2, "concurrency": 5, "quota_period": "month"}))
    assert status == 200 and (info["rpm"], info["concurrency"]) == (2, 5)
    assert info["quota_period"] == "month"
    assert [s for s, _, _ in post_many(gateway, key, 4)].count(200) == 2
    status, info = asyncio.run(patch({"rpm": None}))
    assert status == 200 and info["rpm"] is None
    assert [s for s, _, _ in post_many(gateway, key, 4)].count(200) == 4
    status, body = asyncio.run(patch({"rpm": 0}))
    assert status == 400 and body["error"]["param"] == "rpm"
    status, body = asyncio.run(patch({"quota_period": "week"}))
    assert status == 400 and body["error"]["param"] == "quota_period"
    status, body = asyncio.run(patch({"colour": "red"}))
    assert status == 400


# -- the limiters alone, under real concurrency --------------------------------------


@pytest.fixture(params=["in-process", "redis"])
def limiter(request, loop_thread):
    if request.param == "in-process":
        yield InProcessLimiter()
        return
    service = request.getfixturevalue("redis_service")
    client = connect_redis(service.url)
    made = RedisLimiter(client, prefix=service.prefix)
    yield made
    loop_thread.run(made.close())
    loop_thread.run(client.aclose())


def test_limiter_rpm_exact_under_200_concurrent_acquires(limiter, loop_thread):
    key = Principal(key_id=1, name="k", rpm=50)

    async def one() -> bool:
        try:
            await limiter.acquire(key, 0)
            return True
        except RateLimited:
            return False

    async def burst() -> int:
        return sum(await asyncio.gather(*(one() for _ in range(200))))

    assert loop_thread.run(burst()) == 50


def test_limiter_tokens_settle_and_quota_holds(limiter, loop_thread):
    key = Principal(key_id=2, name="k", tpm=1000, quota_tokens=1500)

    async def scenario() -> None:
        first = await limiter.acquire(key, 900)
        with pytest.raises(RateLimited):
            await limiter.acquire(key, 200)
        first.settle(100)
        if isinstance(limiter, RedisLimiter):
            await limiter.drain()
        second = await limiter.acquire(key, 800)  # fits now: 100 + 800 <= 1000
        with pytest.raises(QuotaExceeded) as info:
            await limiter.acquire(key, 700)  # 100 used + 800 reserved + 700 > 1500
        assert info.value.code == "insufficient_quota"
        second.settle(800)
        second.settle(800)  # settling twice counts once

    loop_thread.run(scenario())


def test_redis_slots_survive_cancelled_acquires(redis_service, loop_thread):
    """A client gone while Redis admits its request must not keep a concurrency slot."""
    key = Principal(key_id=3, name="k", max_concurrency=1000, tpm=10**9)

    async def scenario() -> int:
        client = connect_redis(redis_service.url)
        limiter = RedisLimiter(client, prefix=redis_service.prefix)
        try:
            tasks = [asyncio.create_task(limiter.acquire(key, 10)) for _ in range(60)]
            await asyncio.sleep(0)
            for index, task in enumerate(tasks):
                if index % 2:
                    task.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            for admission in done:
                if not isinstance(admission, BaseException):
                    admission.settle(10)
            await asyncio.sleep(0.2)  # cancelled scripts still answer; their settles follow
            await limiter.drain()
            return await client.zcard(f"{redis_service.prefix}:{{k3}}:concurrency")
        finally:
            await limiter.close()
            await client.aclose()

    assert loop_thread.run(scenario()) == 0


def test_cli_keys_update(tmp_path):
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
        "LOWART_SECRET_KEY": "x",
    }

    def lowart(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lowart", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert lowart("db", "upgrade").returncode == 0
    created = lowart("keys", "create", "--name", "ci", "--rpm", "10", "--concurrency", "3")
    assert created.returncode == 0, created.stderr
    updated = lowart(
        "keys", "update", "ci", "--rpm", "none", "--quota", "5000", "--quota-period", "month"
    )
    assert updated.returncode == 0, updated.stderr
    assert "rpm=none" in updated.stdout and "concurrency=3" in updated.stdout
    assert "quota_tokens=5000" in updated.stdout and "quota_period=month" in updated.stdout
    bad = lowart("keys", "update", "ci", "--tpm", "-5")
    assert bad.returncode == 1 and "'tpm' must be a positive integer" in bad.stderr
    missing = lowart("keys", "update", "nobody", "--tpm", "5")
    assert missing.returncode == 1 and "No key named" in missing.stderr


def test_unreachable_redis_fails_the_start_and_refuses_limited_keys(loop_thread):
    from contextlib import AsyncExitStack

    from lowart.auth import open_limiter
    from lowart.errors import LimitsUnavailable
    from tests.support.fake_openai import closed_port

    url = f"redis://127.0.0.1:{closed_port()}/0"

    async def baseline(_key: int, _since) -> int:
        return 0

    async def start() -> None:
        async with AsyncExitStack() as stack:
            await open_limiter(url, prefix="x", baseline=baseline, stack=stack)

    with pytest.raises(RuntimeError, match="LOWART_REDIS_URL is unreachable"):
        loop_thread.run(start())

    async def later() -> None:  # Redis went away after the start
        client = connect_redis(url)
        limiter = RedisLimiter(client, prefix="x")
        try:
            assert (await limiter.acquire(Principal(key_id=1, name="free"), 5)) is not None
            with pytest.raises(LimitsUnavailable) as info:
                await limiter.acquire(Principal(key_id=1, name="k", rpm=5), 0)
            assert info.value.status == 503 and info.value.code == "limits_unavailable"
        finally:
            await client.aclose()

    loop_thread.run(later())


class _PausableProxy:
    """A TCP proxy in front of Redis that can drop every connection and refuse new ones
    for a while: a Redis blip, as the gateway sees it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def drop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))


def test_a_redis_blip_frees_concurrency_slots_when_redis_is_back(redis_service, loop_thread):
    """A settle that cannot reach Redis for a second is retried, so the key's slot is free
    again seconds after Redis returns (not when its 15-minute lease expires)."""
    from urllib.parse import urlsplit

    target = urlsplit(redis_service.url)
    key = Principal(key_id=4, name="k", max_concurrency=1)
    zset = f"{redis_service.prefix}:{{k4}}:concurrency"

    async def scenario() -> tuple[int, int]:
        proxy = _PausableProxy(target.hostname or "127.0.0.1", target.port or 6379)
        await proxy.start()
        client = connect_redis(f"redis://127.0.0.1:{proxy.port}/0", max_connections=4)
        limiter = RedisLimiter(client, prefix=redis_service.prefix)
        direct = connect_redis(redis_service.url)
        try:
            admission = await limiter.acquire(key, 0)
            await proxy.drop()  # Redis is gone ...
            admission.settle(0)  # ... when the request ends
            await asyncio.sleep(1.0)
            held_during = await direct.zcard(zset)
            await proxy.start(proxy.port)  # ... and back after a second
            for _ in range(100):
                if await direct.zcard(zset) == 0:
                    break
                await asyncio.sleep(0.1)
            return held_during, await direct.zcard(zset)
        finally:
            await limiter.close()
            await client.aclose()
            await direct.aclose()

    held_during, held_after = loop_thread.run(scenario())
    assert held_during == 1  # the slot is still taken while Redis cannot be told
    assert held_after == 0  # and freed once Redis is back

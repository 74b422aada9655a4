"""Shared fixtures: a background loop, a fake OpenAI upstream and a live gateway."""

from __future__ import annotations

import os
from collections.abc import Iterator

import asyncpg
import pytest
from redis.exceptions import RedisError

from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_comfyui import FakeComfyUI
from tests.support.fake_openai import FakeOpenAI
from tests.support.postgres import temporary_database
from tests.support.redis import RedisService, drop_prefix, open_test_redis
from tests.support.servers import (
    GatewayHandle,
    LoopThread,
    start_gateway,
    stop_gateway,
    test_settings,
)

REQUIRE_SERVICES = os.environ.get("LOWART_TEST_REQUIRE_SERVICES") == "1"


@pytest.fixture
def postgres_url(loop_thread: LoopThread) -> Iterator[str]:
    """A fresh PostgreSQL database (skipped locally, failed in CI, when the server is down)."""
    context = temporary_database()
    try:
        url = loop_thread.run(context.__aenter__())
    except (OSError, asyncpg.PostgresError) as exc:
        service_unavailable("PostgreSQL", str(exc))
    yield url
    loop_thread.run(context.__aexit__(None, None, None))


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.stop()


@pytest.fixture
def fake_openai(loop_thread: LoopThread) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    loop_thread.run(fake.start())
    yield fake
    loop_thread.run(fake.stop())


@pytest.fixture
def fake_comfyui(loop_thread: LoopThread) -> Iterator[FakeComfyUI]:
    fake = loop_thread.run(_started_comfyui())
    yield fake
    loop_thread.run(fake.stop())


async def _started_comfyui() -> FakeComfyUI:
    fake = FakeComfyUI()  # its asyncio primitives must belong to the loop thread
    await fake.start()
    return fake


@pytest.fixture
def fake_anthropic(loop_thread: LoopThread) -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic()
    loop_thread.run(fake.start())
    yield fake
    loop_thread.run(fake.stop())


@pytest.fixture
def gateway(loop_thread: LoopThread, tmp_path, fake_openai: FakeOpenAI) -> Iterator[GatewayHandle]:
    """A live gateway: the mock model plus `fake`, an openai route to the fake upstream."""
    handle = start_gateway(loop_thread, test_settings(tmp_path))
    handle.add_model(
        "fake",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="echo",
        api_key="sk-upstream-secret",
    )
    handle.extra["fake"] = fake_openai
    yield handle
    stop_gateway(handle)


def service_unavailable(name: str, reason: str) -> None:
    """Skip locally when a service is down; fail in CI, where it must run."""
    message = f"{name} unreachable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def redis_service(loop_thread: LoopThread) -> Iterator[RedisService]:
    """This machine's Redis with a key prefix of our own (skip locally / fail in CI if down)."""
    try:
        service = loop_thread.run(open_test_redis())
    except (OSError, RedisError) as exc:
        service_unavailable("Redis", str(exc))
    yield service
    loop_thread.run(drop_prefix(service))

"""Shared fixtures: a background loop, a fake OpenAI upstream and a live gateway."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import (
    GatewayHandle,
    LoopThread,
    start_gateway,
    stop_gateway,
    test_settings,
)

REQUIRE_SERVICES = os.environ.get("LOWART_TEST_REQUIRE_SERVICES") == "1"


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

"""GET /metrics after real traffic: the official openai SDK's chat, stream, a 429 and
a failed upstream, scraped over HTTP and parsed with prometheus-client's own parser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import aiohttp
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fake_openai import FakeOpenAI, closed_port
from tests.support.servers import (
    GatewayHandle,
    LoopThread,
    start_gateway,
    stop_gateway,
    test_settings,
)


def scrape(handle: GatewayHandle, token: str | None, path: str = "/metrics") -> tuple[int, str]:
    async def get() -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(handle.base_url + path, headers=headers) as resp,
        ):
            return resp.status, await resp.text()

    return handle.run(get())


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by (name, labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


@pytest.fixture
def metered(loop_thread: LoopThread, tmp_path, fake_openai: FakeOpenAI) -> Iterator[GatewayHandle]:
    handle = start_gateway(loop_thread, test_settings(tmp_path, metrics_token="scrape-token"))
    handle.add_model("fake", "openai", base_url=fake_openai.base_url, upstream_model="echo")
    handle.add_model(
        "broken",
        "openai",
        base_url=f"http://127.0.0.1:{closed_port()}/v1",
        options={"retries": 0},
    )
    handle.add_model(
        "flaky",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="fail-503",
        options={"retries": 1, "retry_backoff": 0.01, "retry_backoff_max": 0.01},
    )
    yield handle
    stop_gateway(handle)


def test_metrics_count_real_traffic(metered: GatewayHandle):
    handle = metered
    api = openai.OpenAI(base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0)
    api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "hello"}])
    stream = api.chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(stream)
    assert chunks
    with pytest.raises(openai.APIStatusError) as failed:
        api.chat.completions.create(model="broken", messages=[{"role": "user", "content": "x"}])
    assert failed.value.status_code == 502
    with pytest.raises(openai.APIStatusError):
        api.chat.completions.create(model="flaky", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(
            model="made-up-by-a-client", messages=[{"role": "user", "content": "x"}]
        )
    limited = handle.create_key("limited", rpm=1)
    limited_api = openai.OpenAI(base_url=handle.openai_base_url, api_key=limited, max_retries=0)
    limited_api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "1"}])
    with pytest.raises(openai.RateLimitError):
        limited_api.chat.completions.create(
            model="fake", messages=[{"role": "user", "content": "2"}]
        )
    records = handle.usage_records()  # flushed: the writer's batch metrics are in too

    status, text = scrape(handle, handle.admin_key)
    assert status == 200
    found = samples(text)

    ok = {"interface": "http", "route": "fake", "vendor": "openai", "status_class": "2xx"}
    assert value(found, "lowart_requests_total", **ok) == 3  # chat, stream, limited key's 1st
    assert (
        value(
            found,
            "lowart_requests_total",
            route="fake",
            status_class="4xx",
            code="rate_limit_exceeded",
        )
        == 1
    )
    assert (
        value(
            found,
            "lowart_requests_total",
            route="broken",
            status_class="5xx",
            code="upstream_unavailable",
        )
        == 1
    )
    assert (
        value(found, "lowart_requests_total", route="", status_class="4xx", code="model_not_found")
        == 1
    )
    assert not any("made-up-by-a-client" in str(key) for key in found)  # no label from clients
    assert not any(("key", "limited") in labels for _, labels in found)  # no key labels

    fake_records = [r for r in records if r["route"] == "fake"]
    prompt = sum(r["prompt_tokens"] for r in fake_records)
    completion = sum(r["completion_tokens"] for r in fake_records)
    assert value(found, "lowart_tokens_total", route="fake", kind="prompt") == prompt > 0
    assert value(found, "lowart_tokens_total", route="fake", kind="completion") == completion > 0

    assert value(found, "lowart_time_to_first_token_seconds_count", route="fake") == 1
    assert value(found, "lowart_request_duration_seconds_count", route="fake") == 4
    assert value(found, "lowart_in_flight_requests") == 1  # this scrape itself
    assert value(found, "lowart_open_streams") == 0

    assert value(found, "lowart_upstream_attempts_total", route="fake", outcome="ok") == 3
    assert (
        value(
            found, "lowart_upstream_attempts_total", route="broken", outcome="upstream_unavailable"
        )
        == 1
    )
    assert (
        value(found, "lowart_upstream_attempts_total", route="flaky", outcome="upstream_error") == 2
    )
    assert value(found, "lowart_upstream_retries_total", route="flaky") == 1
    assert value(found, "lowart_limiter_rejections_total", kind="rpm") == 1
    assert value(found, "lowart_circuit_state", route="fake", state="closed") == 1
    assert value(found, "lowart_usage_rows_written_total") == len(records)
    assert value(found, "lowart_usage_batch_seconds_count") >= 1
    assert value(found, "lowart_usage_queue_depth") == 0
    assert value(found, "lowart_usage_rows_quarantined_total") == 0


def test_fallbacks_and_open_circuits_are_counted(metered: GatewayHandle):
    handle = metered
    handle.admin_call(
        "POST", "/admin/fallbacks", {"model": "broken", "fallback": "fake", "priority": 1}
    )
    handle.run(handle.runtime.reload())
    api = openai.OpenAI(base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0)
    reply = api.chat.completions.create(model="broken", messages=[{"role": "user", "content": "x"}])
    assert reply.model == "fake"
    found = samples(scrape(handle, handle.admin_key)[1])
    assert value(found, "lowart_fallbacks_total", requested="broken", served="fake") == 1
    assert value(found, "lowart_requests_total", route="fake", status_class="2xx") == 1


def test_who_may_read_metrics(metered: GatewayHandle):
    handle = metered
    user = handle.create_key("user")
    assert scrape(handle, None)[0] == 401
    assert scrape(handle, "la-not-a-key")[0] == 401
    assert scrape(handle, user)[0] == 403
    assert scrape(handle, handle.admin_key)[0] == 200
    status, text = scrape(handle, "scrape-token")  # the dedicated token, no key needed
    assert status == 200 and "lowart_requests_total" in text


@pytest.mark.parametrize("mode", ["public", "off"])
def test_public_and_off(loop_thread: LoopThread, tmp_path, mode: str):
    handle = start_gateway(loop_thread, test_settings(tmp_path, metrics=mode))
    try:
        status, text = scrape(handle, None)
        if mode == "public":
            assert status == 200 and "lowart_in_flight_requests" in text
        else:
            assert status == 404
            assert not handle.runtime.metrics.enabled
    finally:
        stop_gateway(handle)


def test_key_labels_are_opt_in(loop_thread: LoopThread, tmp_path):
    settings = replace(test_settings(tmp_path), metrics_key_labels=True)
    handle = start_gateway(loop_thread, settings)
    try:
        api = openai.OpenAI(
            base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0
        )
        api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "hi"}])
        found = samples(scrape(handle, handle.admin_key)[1])
        assert value(found, "lowart_requests_total", route="mock", key="test-admin") == 1
        assert (
            value(found, "lowart_tokens_total", route="mock", key="test-admin", kind="completion")
            > 0
        )
    finally:
        stop_gateway(handle)


def test_each_gateway_has_its_own_registry(loop_thread: LoopThread, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = start_gateway(loop_thread, test_settings(tmp_path / "one", metrics="public"))
    two = start_gateway(loop_thread, test_settings(tmp_path / "two", metrics="public"))
    try:
        api = openai.OpenAI(base_url=one.openai_base_url, api_key=one.admin_key, max_retries=0)
        api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "hi"}])
        assert value(samples(scrape(one, None)[1]), "lowart_requests_total", route="mock") == 1
        assert value(samples(scrape(two, None)[1]), "lowart_requests_total", route="mock") == 0
    finally:
        stop_gateway(one)
        stop_gateway(two)


def test_cost_is_counted_from_the_records(metered: GatewayHandle, fake_openai: FakeOpenAI):
    """A route whose upstream model is in the shipped price table (gpt-4o-mini: 0.15 and
    0.60 USD per million input and output tokens) adds its cost to lowart_cost_total."""
    handle = metered
    handle.add_model(
        "priced", "openai", base_url=fake_openai.base_url, upstream_model="gpt-4o-mini"
    )
    api = openai.OpenAI(base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0)
    for _ in range(2):
        api.chat.completions.create(model="priced", messages=[{"role": "user", "content": "hi"}])
    records = [r for r in handle.usage_records() if r["route"] == "priced"]
    expected = sum(r["prompt_tokens"] * 0.15 + r["completion_tokens"] * 0.60 for r in records) / 1e6
    found = samples(scrape(handle, handle.admin_key)[1])
    counted = value(found, "lowart_cost_total", route="priced", vendor="openai", currency="USD")
    assert expected > 0 and counted == pytest.approx(expected, rel=1e-9)
    assert value(found, "lowart_cost_total", route="fake") == 0  # 'echo' has no price


async def test_mcp_tool_calls_are_counted(metered: GatewayHandle):
    """An MCP agent's chat through the MCP SDK client counts as an `mcp` request."""
    from tests.support.mcp_client import http_client

    async with http_client(metered.base_url + "/mcp", metered.admin_key) as client:
        result = await client.call_tool("chat", {"model": "fake", "prompt": "hi"})
        assert not result.is_error
        failed = await client.call_tool("chat", {"model": "broken", "prompt": "hi"})
        assert failed.is_error
    text, _ = metered.runtime.metrics.exposition()
    found = samples(text.decode())
    assert (
        value(found, "lowart_requests_total", interface="mcp", route="fake", status_class="2xx")
        == 1
    )
    assert (
        value(
            found,
            "lowart_requests_total",
            interface="mcp",
            route="broken",
            status_class="5xx",
            code="upstream_unavailable",
        )
        == 1
    )

"""An Anthropic upstream's `retry-after` (issue 4) steers retries and fallbacks
(issue 8) exactly as an OpenAI upstream's does, and reaches the client when the
request finally fails."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.integration.conftest import FAST, anthropic_client, openai_client, records


def add_fallback(gateway, model: str, to: str) -> None:
    async def add() -> None:
        await gateway.runtime.admin.routing.add_fallback(model, to, 0)
        await gateway.runtime.reload()

    gateway.run(add())


@pytest.fixture
def fast_claude(live):
    """`claude` with fast retries (its default max_retry_wait is 10 s)."""
    status, body = live.admin_call("PATCH", "/admin/models/claude", {"options": FAST})
    assert status == 200, body
    return live


def test_a_long_retry_after_moves_on_to_the_fallback_at_once(fast_claude):
    gateway = fast_claude
    add_fallback(gateway, "claude", "fake")
    gateway.extra["anthropic"].fail_next(3, 429, retry_after="30")
    reply = openai_client(gateway).chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "echo: hi" and reply.model == "fake"
    # waiting 30 s is not worth it: no retry against the rate-limited upstream
    assert len(gateway.extra["anthropic"].requests) == 1
    (record,) = records(gateway, 1)
    assert record["route"] == "fake" and record["extra"]["attempts"] == 2


@pytest.mark.parametrize("stream", [False, True])
def test_the_client_sees_the_upstreams_retry_after(fast_claude, stream):
    gateway = fast_claude
    gateway.extra["anthropic"].fail_next(3, 429, retry_after="30")
    with pytest.raises(anthropic.RateLimitError) as caught:
        anthropic_client(gateway).messages.create(
            model="claude",
            max_tokens=5,
            messages=[{"role": "user", "content": "x"}],
            stream=stream,
        )
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert caught.value.response.headers["retry-after"] == "30"
    assert len(gateway.extra["anthropic"].requests) == 1


def test_an_openai_client_of_an_anthropic_route_sees_it_too(fast_claude):
    fast_claude.extra["anthropic"].fail_next(1, 429, retry_after="30")
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(fast_claude).chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.response.headers["retry-after"] == "30"

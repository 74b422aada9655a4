"""Fallback across vendors (issues 8 and 4): an OpenAI-compatible primary that fails
hands the request to an Anthropic route, invisibly for a client of the openai SDK,
streaming or not; the one usage record names the route that served, and its `extra`
keeps the attempts."""

from __future__ import annotations

import anthropic
import pytest

from lowart._proto import chat_pb2
from tests.integration.conftest import (
    FAST,
    anthropic_client,
    grpc_auth,
    openai_client,
    records,
    user,
)
from tests.support.fake_anthropic import API_KEY, INPUT_TOKENS


def add_fallback(gateway, model: str, to: str) -> None:
    async def add() -> None:
        await gateway.runtime.admin.routing.add_fallback(model, to, 0)
        await gateway.runtime.reload()

    gateway.run(add())


@pytest.fixture
def failing_primary(live):
    """`primary` (openai, its upstream always 500s) falls back to `claude` (anthropic)."""
    fake = live.extra["fake"]
    live.add_model(
        "primary", "openai", base_url=fake.base_url, upstream_model="fail-500", options=FAST
    )
    add_fallback(live, "primary", "claude")
    return live


def check_record(gateway, *, stream: bool, interface: str = "http") -> dict:
    (record,) = records(gateway, 1)
    assert (record["route"], record["vendor"], record["upstream_model"]) == (
        "claude",
        "anthropic",
        "claude-echo",
    )
    assert (record["status"], record["stream"], record["interface"]) == ("ok", stream, interface)
    extra = record["extra"]
    assert extra["requested_model"] == "primary" and extra["fallbacks"] == ["claude"]
    assert extra["attempts"] == 4  # the primary's first try and two retries, then claude
    assert [a["route"] for a in extra["trail"]] == ["primary"] * 3 + ["claude"]
    assert [a["outcome"] for a in extra["trail"]] == ["upstream_error"] * 3 + ["ok"]
    return record


def test_unary_falls_back_to_the_anthropic_route(failing_primary):
    gateway = failing_primary
    reply = openai_client(gateway).chat.completions.create(
        model="primary", messages=[{"role": "user", "content": "hi there"}], max_tokens=20
    )
    assert reply.choices[0].message.content == "echo: hi there"
    assert reply.model == "claude"  # the route that answered, as in the usage record
    assert reply.usage.prompt_tokens == INPUT_TOKENS and reply.usage.completion_tokens == 3
    assert [r["model"] for r in gateway.extra["fake"].requests] == ["fail-500"] * 3
    sent = gateway.extra["anthropic"].requests[-1]
    assert sent["model"] == "claude-echo" and sent["max_tokens"] == 20  # its own model name
    record = check_record(gateway, stream=False)
    assert (record["prompt_tokens"], record["completion_tokens"]) == (INPUT_TOKENS, 3)


def test_stream_falls_back_before_the_first_byte(failing_primary):
    gateway = failing_primary
    chunks = list(
        openai_client(gateway).chat.completions.create(
            model="primary",
            messages=[{"role": "user", "content": "hi there"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hi there"
    assert {c.model for c in chunks} == {"claude"}
    assert chunks[-1].usage.completion_tokens == 3
    assert gateway.extra["anthropic"].requests[-1]["stream"] is True
    record = check_record(gateway, stream=True)
    assert record["completion_tokens"] == 3


def test_an_anthropic_client_falls_back_too(failing_primary):
    """The Messages API caller's own body reaches the fallback (passthrough), not a
    translation of it."""
    gateway = failing_primary
    message = anthropic_client(gateway).messages.create(
        model="primary",
        max_tokens=20,
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi there"}],
    )
    assert message.content[0].text == "echo: hi there"
    sent = gateway.extra["anthropic"].requests[-1]
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    check_record(gateway, stream=False, interface="anthropic")


def test_when_every_candidate_fails_the_error_is_the_last_ones(live):
    fake, fake_anthropic = live.extra["fake"], live.extra["anthropic"]
    live.add_model(
        "primary", "openai", base_url=fake.base_url, upstream_model="fail-500", options=FAST
    )
    live.add_model(
        "claude-down",
        "anthropic",
        base_url=fake_anthropic.base_url,
        upstream_model="fail-529",
        api_key=API_KEY,
        options={**FAST, "retries": 0},
    )
    add_fallback(live, "primary", "claude-down")
    with pytest.raises(anthropic.InternalServerError) as caught:
        anthropic_client(live).messages.create(
            model="primary", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 529  # Anthropic's own "overloaded"
    assert caught.value.body["error"]["type"] == "overloaded_error"
    (record,) = records(live, 1)
    assert record["route"] == "claude-down" and record["status"] == "error"
    assert record["extra"]["attempts"] == 4


def test_an_anthropic_client_streams_from_the_fallback(failing_primary):
    gateway = failing_primary
    with anthropic_client(gateway).messages.stream(
        model="primary", max_tokens=20, messages=[{"role": "user", "content": "hi there"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "echo: hi there" and final.model == "claude"
    assert final.usage.output_tokens == 3
    check_record(gateway, stream=True, interface="anthropic")


def test_a_grpc_stream_falls_back_too(failing_primary, chat):
    gateway = failing_primary
    messages = list(
        chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="primary", messages=[user("hi there")]),
            metadata=grpc_auth(gateway.admin_key),
            timeout=10,
        )
    )
    assert "".join(c.delta.content for m in messages for c in m.choices) == "echo: hi there"
    assert {m.model for m in messages} == {"claude"}
    assert messages[-1].usage.completion_tokens == 3
    check_record(gateway, stream=True, interface="grpc")

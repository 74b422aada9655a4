"""Anthropic clients as they really are (Claude Code's habits), through the official
anthropic SDK: system messages inside `messages`, unknown models, Messages API
fields on translated routes."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.support.fake_anthropic import add_anthropic_route

SYSTEM_INSIDE = [
    {"role": "user", "content": "hello"},
    {"role": "system", "content": "Answer in French."},
    {"role": "assistant", "content": "Bonjour"},
    {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
    {"role": "user", "content": "and now?"},
]


def client(gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=gateway.admin_key, max_retries=0)


def test_system_messages_inside_messages_on_every_route(gateway, fake_anthropic):
    add_anthropic_route(gateway, fake_anthropic, "claude", "claude-echo")
    api = client(gateway)
    beta = {"anthropic-beta": "mid-conversation-system-2026-04-07"}
    mock = api.messages.create(
        model="mock", max_tokens=50, system="Base.", messages=SYSTEM_INSIDE, extra_headers=beta
    )
    assert mock.content[0].text == "This is the lowart mock model. You said: and now?"

    api.messages.create(model="fake", max_tokens=50, system="Base.", messages=SYSTEM_INSIDE)
    sent = gateway.extra["fake"].requests[-1]["messages"]
    assert sent[0]["role"] == "system"
    assert [m["role"] for m in sent[1:]] == ["user", "assistant", "user"]
    assert [p["text"] for p in sent[0]["content"]] == ["Base.", "Answer in French.", "Be brief."]

    api.messages.create(model="claude", max_tokens=50, system="Base.", messages=SYSTEM_INSIDE)
    upstream = fake_anthropic.requests[-1]
    assert [m["role"] for m in upstream["messages"]] == ["user", "assistant", "user"]
    assert upstream["system"] == [
        {"type": "text", "text": "Base."},
        {"type": "text", "text": "Answer in French."},
        {"type": "text", "text": "Be brief."},
    ]
    plain = [m for m in SYSTEM_INSIDE if isinstance(m["content"], str)]
    api.messages.create(model="claude", max_tokens=50, messages=plain)
    assert fake_anthropic.requests[-1]["system"] == "Answer in French."


def test_unknown_model_is_not_found_before_the_body_is_judged(gateway):
    api = client(gateway)
    bad_body = [{"role": "tool", "content": 7}]  # two errors in it, both must wait
    with pytest.raises(anthropic.NotFoundError) as raised:
        api.messages.create(model="claude-nope-4", max_tokens=10, messages=bad_body)
    assert raised.value.body["error"]["type"] == "not_found_error"
    assert "claude-nope-4" in raised.value.body["error"]["message"]
    with pytest.raises(anthropic.NotFoundError):
        api.messages.count_tokens(model="claude-nope-4", messages=bad_body)
    with pytest.raises(anthropic.BadRequestError):  # a known model: now the body is judged
        api.messages.create(model="mock", max_tokens=10, messages=bad_body)
    chat = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    with pytest.raises(openai.NotFoundError) as missing:
        chat.chat.completions.create(model="gpt-nope", messages=[], temperature="hot")
    assert missing.value.body["code"] == "model_not_found"


def test_messages_api_fields_never_reach_an_openai_upstream(gateway, fake_anthropic):
    add_anthropic_route(gateway, fake_anthropic, "claude", "claude-echo")
    api = client(gateway)
    extras = {
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
        "metadata": {"user_id": "user_abc"},
        "service_tier": "auto",
        "top_k": 5,
        "container": "c-1",
        "mcp_servers": [{"type": "url", "url": "https://mcp.example.com", "name": "x"}],
        "betas": ["x"],
        "user": "someone",
    }
    body = {"max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    web_search = {"type": "web_search_20250305", "name": "web_search"}
    api.messages.create(model="fake", **body, tools=[web_search], extra_body=extras)
    sent = gateway.extra["fake"].requests[-1]
    assert set(sent) == {
        "model",
        "messages",
        "max_tokens",
        "user",
        "reasoning_effort",
        "response_format",
    }
    assert sent["user"] == "user_abc" and sent["reasoning_effort"] == "medium"
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": {"type": "object"}},
    }
    api.messages.create(model="claude", **body, tools=[web_search], extra_body=extras)
    upstream = fake_anthropic.requests[-1]  # an Anthropic route keeps the client's body
    assert {k: upstream[k] for k in extras} == extras
    assert upstream["tools"] == [web_search]


def test_drop_params_route_option(gateway):
    gateway.add_model(
        "plain-4o",
        "openai",
        base_url=gateway.extra["fake"].base_url,
        upstream_model="echo",
        options={"drop_params": ["reasoning_effort"]},
    )
    client(gateway).messages.create(
        model="plain-4o",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 2000}},
    )
    assert "reasoning_effort" not in gateway.extra["fake"].requests[-1]

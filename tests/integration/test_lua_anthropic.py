"""Lua transforms (issue 6) on an Anthropic route (issue 4): the hooks see the Messages
API's own payloads (top-level `system`, `max_tokens`, content blocks, named stream
events), whichever protocol the caller spoke: the openai SDK, the anthropic SDK, or an
agent through MCP's `chat` tool (issue 7)."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.integration.conftest import (
    anthropic_client,
    mcp_url,
    openai_client,
    records,
    set_script,
)
from tests.support.mcp_client import http_client

# Every line only works on the Messages API shape: an OpenAI-shaped payload has no
# top-level max_tokens here, no content blocks, and no typed events.
MESSAGES_API_SCRIPT = """
function request(p, ctx)
  p.system = "Answer in French."
  p.metadata = {user_id = ctx.interface .. "/" .. ctx.key_name}
  p.max_tokens = math.min(p.max_tokens, 50)
  return p
end
function response(r, ctx)
  r.content[1].text = string.upper(r.content[1].text)
  return r
end
function chunk(e, ctx)
  if e.type == "content_block_delta" and e.delta.type == "text_delta" then
    if e.delta.text == "drop " then return nil end
    e.delta.text = string.upper(e.delta.text)
  end
  return e
end
"""

FAILS_IN_CHUNK = """
function chunk(e)
  if e.type == "content_block_delta" and e.delta.text == "drop " then
    error("no dropping allowed")
  end
  return e
end
"""

PROMPT = "keep drop keep"


@pytest.fixture
def scripted(live):
    set_script(live, "claude", MESSAGES_API_SCRIPT)
    return live


def sent(gateway) -> dict:
    return gateway.extra["anthropic"].requests[-1]


def test_openai_sdk_unary(scripted):
    key = scripted.create_key("alice")
    reply = openai_client(scripted, key).chat.completions.create(
        model="claude", messages=[{"role": "user", "content": PROMPT}]
    )
    assert reply.choices[0].message.content == "ECHO: KEEP DROP KEEP"
    assert reply.model == "claude"
    body = sent(scripted)
    assert body["system"] == "Answer in French." and body["max_tokens"] == 50
    assert body["metadata"] == {"user_id": "http/alice"}
    assert body["messages"][-1]["role"] == "user"
    (record,) = records(scripted, 1)
    assert (record["interface"], record["vendor"], record["status"]) == (
        "http",
        "anthropic",
        "ok",
    )


def test_openai_sdk_stream(scripted):
    chunks = list(
        openai_client(scripted).chat.completions.create(
            model="claude",
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "ECHO: KEEP KEEP"
    assert chunks[-1].usage.completion_tokens == 4  # the upstream's own count
    assert sent(scripted)["stream"] is True and sent(scripted)["max_tokens"] == 50
    (record,) = records(scripted, 1)
    assert record["stream"] and record["status"] == "ok" and record["completion_tokens"] == 4


def test_anthropic_sdk_unary(scripted):
    message = anthropic_client(scripted).messages.create(
        model="claude", max_tokens=100, messages=[{"role": "user", "content": PROMPT}]
    )
    assert message.content[0].text == "ECHO: KEEP DROP KEEP"
    assert message.model == "claude"
    body = sent(scripted)
    assert body["system"] == "Answer in French." and body["max_tokens"] == 50
    assert body["metadata"] == {"user_id": "anthropic/test-admin"}
    (record,) = records(scripted, 1)
    assert record["interface"] == "anthropic" and record["status"] == "ok"


def test_anthropic_sdk_stream(scripted):
    with anthropic_client(scripted).messages.stream(
        model="claude", max_tokens=100, messages=[{"role": "user", "content": PROMPT}]
    ) as stream:
        deltas = [
            event.delta.text
            for event in stream
            if event.type == "content_block_delta" and event.delta.type == "text_delta"
        ]
        final = stream.get_final_message()
    assert deltas == ["ECHO: ", "KEEP ", "KEEP"]
    assert final.content[0].text == "ECHO: KEEP KEEP"
    assert final.usage.output_tokens == 4
    assert sent(scripted)["metadata"] == {"user_id": "anthropic/test-admin"}
    (record,) = records(scripted, 1)
    assert record["interface"] == "anthropic" and record["stream"] and record["status"] == "ok"


async def test_mcp_chat_unary_and_streamed(scripted):
    async with http_client(mcp_url(scripted), scripted.admin_key) as client:
        plain = await client.call_tool("chat", {"model": "claude", "prompt": PROMPT})
        assert sent(scripted)["metadata"] == {"user_id": "mcp/test-admin"}
        progress: list[float] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append(value)

        streamed = await client.call_tool(
            "chat", {"model": "claude", "prompt": PROMPT}, progress_callback=on_progress
        )
    assert not plain.is_error and plain.content[0].text == "ECHO: KEEP DROP KEEP"
    assert plain.structured_content["model"] == "claude"
    assert not streamed.is_error and streamed.content[0].text == "ECHO: KEEP KEEP"
    assert progress  # it really streamed, so the chunk script ran
    assert sent(scripted)["stream"] is True
    found = records(scripted, 2)
    assert [(r["interface"], r["stream"], r["status"]) for r in found] == [
        ("mcp", False, "ok"),
        ("mcp", True, "ok"),
    ]


def test_a_failing_chunk_script_ends_each_protocol_in_its_own_way(live):
    set_script(live, "claude", FAILS_IN_CHUNK)
    ask = [{"role": "user", "content": PROMPT}]
    with pytest.raises(openai.APIError) as from_openai:
        for _ in openai_client(live).chat.completions.create(
            model="claude", messages=ask, stream=True
        ):
            pass
    assert "model 'claude'" in from_openai.value.message
    assert "failed in chunk" in from_openai.value.message
    assert "no dropping allowed" in from_openai.value.message
    with pytest.raises(anthropic.APIStatusError) as from_anthropic:
        with anthropic_client(live).messages.stream(
            model="claude", max_tokens=100, messages=ask
        ) as stream:
            for _ in stream:
                pass
    body = from_anthropic.value.body
    assert body["type"] == "error" and body["error"]["type"] == "api_error"
    assert "failed in chunk" in body["error"]["message"]
    assert "no dropping allowed" in body["error"]["message"]
    found = records(live, 2)
    assert [(r["interface"], r["error_code"]) for r in found] == [
        ("http", "transform_failed"),
        ("anthropic", "transform_failed"),
    ]


async def test_a_failing_script_is_an_mcp_tool_error(live):
    set_script(
        live,
        "claude",
        "function request(p)\n"
        "  if p.messages[1].content == 'secret' then error('refused by policy') end\n"
        "  return p\n"
        "end",
    )
    async with http_client(mcp_url(live), live.admin_key) as client:
        result = await client.call_tool("chat", {"model": "claude", "prompt": "secret"})
    assert result.is_error
    message = result.content[0].text
    assert "model 'claude'" in message and "failed in request" in message
    assert "script:2: refused by policy" in message
    assert live.extra["anthropic"].requests == []
    assert result.structured_content["error"]["code"] == "transform_failed"
    (record,) = records(live, 1)
    assert record["interface"] == "mcp" and record["error_code"] == "transform_failed"


def test_upload_dry_runs_a_script_on_the_routes_own_format(live):
    """A script written for OpenAI replies would fail every call of an Anthropic
    route, so it is refused there at upload (and accepted on an OpenAI route)."""
    openai_shaped = "function response(r) r.choices[1].message.content = 'x' return r end"
    status, body = live.admin_call("PATCH", "/admin/models/claude", {"script": openai_shaped})
    assert status == 400 and body["error"]["code"] == "invalid_script"
    assert "response: script:1:" in body["error"]["message"]
    set_script(live, "fake", openai_shaped)
    status, body = live.admin_call("PATCH", "/admin/models/fake", {"script": MESSAGES_API_SCRIPT})
    assert status == 400 and body["error"]["code"] == "invalid_script"

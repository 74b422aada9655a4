"""The typed side channels on canonical responses and chunks (`lowart_anthropic_message`,
`lowart_anthropic_events`, `lowart_prompt_usage`) never reach an OpenAI-protocol client:
an Anthropic route called through /v1/chat/completions shows none of them on the wire.
(gRPC and MCP encode named fields only; the OpenAI HTTP encoder writes the dict.)"""

from __future__ import annotations

from typing import Any

import orjson

from tests.integration.conftest import openai_client

PROMPT: dict[str, Any] = {
    "model": "claude",
    "messages": [{"role": "user", "content": "hello side"}],
}


def _post(live, body: dict[str, Any]) -> Any:
    """The raw HTTP response to a chat completion request (its bytes, unparsed)."""
    raw = openai_client(live).chat.completions.with_raw_response.create(**body)
    raw.http_response.read()
    return raw.http_response


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_a_reply_carries_no_side_channel(live):
    reply = _post(live, PROMPT)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["choices"][0]["message"]["content"] == "echo: hello side"
    assert not {k for k in _keys(body) if k.startswith("lowart_")}
    assert "lowart_" not in reply.text and '"type":"message"' not in reply.text


def test_stream_chunks_carry_no_side_channel(live):
    reply = _post(live, {**PROMPT, "stream": True, "stream_options": {"include_usage": True}})
    assert reply.status_code == 200, reply.text
    chunks = [
        orjson.loads(line[6:])
        for line in reply.text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "echo: hello side"
    assert chunks[-1]["usage"]["prompt_tokens"] > 0
    assert not {k for c in chunks for k in _keys(c) if k.startswith("lowart_")}
    assert "message_start" not in reply.text  # no native Anthropic event either

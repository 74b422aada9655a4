"""Upstream messages reach callers without the route's key or anything like a credential."""

from __future__ import annotations

import anthropic
import openai
import pytest

from lowart.adapters._redact import REDACTED, redact
from tests.support.mcp_client import http_client

ROUTE_KEY = "sk-proj-Zq81TopSecretRouteKey0123456789wxyz"


def _openai(gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)


def _add_leaky(gateway) -> str:
    fake = gateway.extra["fake"]
    gateway.add_model(
        "leaky-401",
        "openai",
        base_url=fake.base_url,
        upstream_model="reject-key",
        api_key=ROUTE_KEY,
    )
    return gateway.create_key("client")


def _no_key_in(text: str) -> None:
    assert ROUTE_KEY not in text
    assert ROUTE_KEY[:6] + "****" not in text and "wxyz" not in text
    assert "Bearer sk-" not in text


def test_openai_client_sees_an_upstream_401_without_the_key(gateway):
    client_key = _add_leaky(gateway)
    with pytest.raises(openai.APIStatusError) as caught:
        _openai(gateway, client_key).chat.completions.create(
            model="leaky-401", messages=[{"role": "user", "content": "x"}]
        )
    message = caught.value.body["message"]
    assert "Incorrect API key provided" in message and REDACTED in message
    _no_key_in(str(caught.value.body))


def test_streaming_client_sees_the_401_without_the_key(gateway):
    client_key = _add_leaky(gateway)
    with pytest.raises(openai.APIStatusError) as caught:
        stream = _openai(gateway, client_key).chat.completions.create(
            model="leaky-401", messages=[{"role": "user", "content": "x"}], stream=True
        )
        list(stream)
    _no_key_in(str(caught.value.body))


async def test_mcp_client_sees_the_401_without_the_key(gateway):
    client_key = _add_leaky(gateway)
    async with http_client(gateway.base_url + "/mcp", client_key) as client:
        result = await client.call_tool("chat", {"model": "leaky-401", "prompt": "x"})
    assert result.is_error
    assert "Incorrect API key provided" in result.content[0].text
    _no_key_in(result.content[0].text)


def test_anthropic_route_echoing_its_key_is_redacted(gateway, fake_anthropic):
    wrong = "sk-ant-api03-WrongRouteKey0123456789abcdefXYZ"
    gateway.add_model(
        "claude-wrong-key",
        "anthropic",
        base_url=fake_anthropic.base_url,
        upstream_model="claude-echo",
        api_key=wrong,
    )
    client_key = gateway.create_key("client")
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=client_key, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(
            model="claude-wrong-key", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    body = str(caught.value.body)
    assert "invalid x-api-key" in body
    assert wrong not in body and "WrongRouteKey" not in body


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Incorrect API key provided: sk-abc...wxyz.", "Incorrect API key provided: "),
        ("auth failed for Bearer abc.def.ghi", "auth failed for Bearer "),
        ("your token: AbCdEf0123456789xyzXYZ is revoked", "your token: "),
        ("client key la-AbCdEfGh0123456789_-xyz refused", "client key "),
        ("key sk-ant-api03-abcdefgh was refused", "key "),
    ],
)
def test_anything_that_looks_like_a_credential_is_redacted(text, kept):
    redacted = redact(text)
    assert redacted.startswith(kept) and REDACTED in redacted


def test_pieces_of_the_routes_key_are_redacted():
    key = "Zq81TopSecretRouteKey0123456789wxyz"
    text = f"key Zq81TopSec...6789wxyz and {key[10:30]} and {key[:8]}"
    redacted = redact(text, [key])
    assert "Zq81" not in redacted and "TopSec" not in redacted and "RouteKey" not in redacted


def test_ordinary_messages_are_untouched():
    for text in (
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens...",
        "The model `gpt-4o-mini` does not exist or you do not have access to it.",
        "max_tokens: Field required",
        "invalid x-api-key",
    ):
        assert redact(text, ["sk-some-unrelated-key-0000"]) == text


def test_comfyui_messages_are_redacted_too():
    from lowart.adapters.comfyui._errors import execution_failure, rejected_prompt
    from lowart.types import Route

    route = Route(id=1, name="img", vendor="comfyui", upstream_model="wf", api_key=ROUTE_KEY)
    body = b'{"error": {"message": "bad auth", "details": "token=' + ROUTE_KEY.encode() + b'"}}'
    assert ROUTE_KEY not in rejected_prompt(route, 400, body).message
    failed = execution_failure(
        route, [["execution_error", {"node_id": "3", "exception_message": f"Bearer {ROUTE_KEY}"}]]
    )
    assert ROUTE_KEY not in failed.message and "Bearer [redacted]" in failed.message

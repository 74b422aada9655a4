"""Transforms at the vendor boundary see Anthropic's own format on an anthropic route."""

from __future__ import annotations

from typing import Any

from lowart.adapters import AnthropicAdapter
from lowart.types import CallContext, Route
from lowart.upstream import Timeouts, UpstreamClient
from tests.support.fake_anthropic import API_KEY


class RecordingHooks:
    """A stand-in for a route's Lua script: it records and rewrites payloads."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.events: list[str] = []

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(payload)
        return {**payload, "top_k": 2}

    def response(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.responses.append(payload)
        payload["content"][0]["text"] = payload["content"][0]["text"].upper()
        return payload

    def event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        self.events.append(event["type"])
        if event["type"] == "content_block_delta":
            event["delta"]["text"] = event["delta"]["text"].upper()
        return None if event["type"] == "ping" else event


def _route(fake) -> Route:
    return Route(
        id=1,
        name="claude",
        vendor="anthropic",
        upstream_model="claude-echo",
        base_url=fake.base_url,
        api_key=API_KEY,
    )


async def _call(fake, stream: bool) -> tuple[RecordingHooks, Any]:
    hooks = RecordingHooks()
    ctx = CallContext(request_id="r1", interface="http")
    request = {"model": "claude", "messages": [{"role": "user", "content": "hi there"}]}
    client = UpstreamClient(timeouts=Timeouts(total=10))
    adapter = AnthropicAdapter(client)
    try:
        if stream:
            result = [chunk async for chunk in adapter.stream(_route(fake), request, ctx, hooks)]
        else:
            result = await adapter.complete(_route(fake), request, ctx, hooks)
    finally:
        await client.close()
    return hooks, result


def test_hooks_see_and_rewrite_the_messages_api_payloads(loop_thread, fake_anthropic):
    hooks, reply = loop_thread.run(_call(fake_anthropic, stream=False))
    assert hooks.requests[0]["max_tokens"] == 4096 and "stream" not in hooks.requests[0]
    assert fake_anthropic.requests[-1]["top_k"] == 2
    assert hooks.responses[0]["type"] == "message"
    assert reply["choices"][0]["message"]["content"] == "ECHO: HI THERE"


def test_hooks_see_each_stream_event(loop_thread, fake_anthropic):
    hooks, chunks = loop_thread.run(_call(fake_anthropic, stream=True))
    assert hooks.requests[0]["stream"] is True
    assert hooks.events[:3] == ["message_start", "content_block_start", "ping"]
    assert hooks.events[-2:] == ["message_delta", "message_stop"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "ECHO: HI THERE"

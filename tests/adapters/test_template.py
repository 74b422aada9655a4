"""The Adapter base class owns the transform points: an adapter that implements only
the vendor steps gets the route's Lua script applied, through the real Gateway and
Router, without a line about transforms of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from lowart.adapters import Adapter, MockAdapter
from lowart.adapters.base import EventDecoder
from lowart.types import CallContext, ChatChunk, ChatRequest, ChatResponse, Route
from tests.integration.conftest import set_script


class ToyAdapter(Adapter):
    """A made-up vendor: asks `{"question": ...}`, answers `{"answer": ...}` and streams
    `{"word": ...}` events. Nothing here mentions hooks."""

    vendor = "mock"  # stands in for the mock vendor's adapter (routes name known vendors)

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        return {"question": request["messages"][-1]["content"]}

    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        self.sent.append(payload)
        return {"answer": f"you asked {payload['question']}"}

    def decode_reply(self, route: Route, reply: dict[str, Any], ctx: CallContext) -> ChatResponse:
        message = {"role": "assistant", "content": reply["answer"]}
        return {
            "id": "toy-1",
            "object": "chat.completion",
            "created": 0,
            "model": route.upstream_model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def stream_decoder(self, route: Route, ctx: CallContext) -> EventDecoder:
        def decode(event: dict[str, Any]) -> list[ChatChunk]:
            choice = {"index": 0, "delta": {"content": event["word"]}, "finish_reason": None}
            return [{"id": "toy-1", "object": "chat.completion.chunk", "choices": [choice]}]

        return decode

    async def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        assert decode is not None
        self.sent.append(payload)
        for word in ("you ", "asked ", "drop ", payload["question"]):
            for chunk in decode({"word": word}):
                yield chunk


# Checked on upload against OpenAI-shaped samples, hence the guards.
TOY_SCRIPT = """
function request(p)
  if p.question then p.question = p.question .. "?" end
  return p
end
function response(r)
  if r.answer then r.answer = string.upper(r.answer) end
  return r
end
function chunk(e)
  if e.word == "drop " then return nil end
  if e.word then e.word = string.upper(e.word) end
  return e
end
"""


@pytest.fixture
def toy(gateway, monkeypatch) -> ToyAdapter:
    adapter = ToyAdapter()
    monkeypatch.setitem(gateway.runtime.adapters, "mock", adapter)  # the Gateway's own map
    gateway.add_model("toy", "mock", upstream_model="toy-1")
    set_script(gateway, "toy", TOY_SCRIPT)
    return adapter


def _client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key)


def test_a_new_adapter_gets_request_and_response_transforms(gateway, toy):
    reply = _client(gateway).chat.completions.create(
        model="toy", messages=[{"role": "user", "content": "why"}]
    )
    assert toy.sent == [{"question": "why?"}]  # the request transform ran on the vendor shape
    assert reply.choices[0].message.content == "YOU ASKED WHY?"  # and the response one


def test_a_new_adapter_gets_each_stream_event_transformed(gateway, toy):
    stream = _client(gateway).chat.completions.create(
        model="toy", messages=[{"role": "user", "content": "why"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert toy.sent == [{"question": "why?"}]
    assert text == "YOU ASKED WHY?"  # every event transformed, the dropped one gone


def test_without_hooks_the_stream_is_the_vendors_own_iterator():
    """No wrapper per chunk when a route has no script and events are canonical."""
    route = Route(id=1, name="m", vendor="mock", upstream_model="m")
    ctx = CallContext(request_id="r", interface="http")
    stream = MockAdapter().stream(route, {"model": "m", "messages": []}, ctx)
    assert stream.__qualname__ == "MockAdapter.send_stream"  # type: ignore[attr-defined]

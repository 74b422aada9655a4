"""Per-key limits (issue 8) through every interface: the OpenAI and Anthropic HTTP
APIs (issue 4), gRPC (issue 3) and MCP (issue 7). A refusal speaks each protocol's
own language with the same message, and one key's counters are shared by all four."""

from __future__ import annotations

import asyncio

import anthropic
import grpc
import openai
from google.protobuf import struct_pb2

from lowart._proto import chat_pb2, chat_pb2_grpc
from tests.integration.conftest import (
    anthropic_client,
    grpc_auth,
    mcp_url,
    openai_client,
    records,
    user,
)
from tests.support.mcp_client import http_client

ASK = [{"role": "user", "content": "x"}]
MAX_TOKENS = 5

# Each `via_*` returns None when admitted, or the refusal's message after checking
# that the refusal has its protocol's own shape (`code`: the gateway's error code).
OPENAI_TYPES = {
    "rate_limit_exceeded": "rate_limit_error",
    "insufficient_quota": "insufficient_quota",
}


def _retry_after(value: str | None) -> None:
    assert value is not None and int(value) >= 1, value


async def via_openai(gateway, key: str, code: str) -> str | None:
    def call() -> str | None:
        try:
            openai_client(gateway, key).chat.completions.create(
                model="fake", messages=ASK, max_tokens=MAX_TOKENS
            )
        except openai.RateLimitError as exc:
            assert exc.status_code == 429
            assert exc.body["code"] == code
            assert exc.body["type"] == OPENAI_TYPES[code]
            _retry_after(exc.response.headers.get("retry-after"))
            return exc.body["message"]
        return None

    return await asyncio.to_thread(call)


async def via_anthropic(gateway, key: str, code: str) -> str | None:
    def call() -> str | None:
        try:
            anthropic_client(gateway, key).messages.create(
                model="fake", max_tokens=MAX_TOKENS, messages=ASK
            )
        except anthropic.RateLimitError as exc:
            assert exc.status_code == 429
            # Anthropic has no quota type: it answers a spent budget as a rate limit too
            assert exc.body == {
                "type": "error",
                "error": {"type": "rate_limit_error", "message": exc.body["error"]["message"]},
            }
            _retry_after(exc.response.headers.get("retry-after"))
            return exc.body["error"]["message"]
        return None

    return await asyncio.to_thread(call)


async def via_grpc(gateway, key: str, code: str) -> str | None:
    def call() -> str | None:
        with grpc.insecure_channel(gateway.grpc_target) as channel:
            stub = chat_pb2_grpc.ChatServiceStub(channel)
            try:
                stub.CreateChatCompletion(
                    chat_pb2.CreateChatCompletionRequest(
                        model="fake", messages=[user("x")], max_tokens=MAX_TOKENS
                    ),
                    metadata=grpc_auth(key),
                    timeout=10,
                )
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                _retry_after(dict(exc.trailing_metadata()).get("retry-after"))
                return exc.details()
        return None

    return await asyncio.to_thread(call)


async def via_mcp(gateway, key: str, code: str) -> str | None:
    async with http_client(mcp_url(gateway), key) as client:
        result = await client.call_tool(
            "chat", {"model": "fake", "prompt": "x", "max_tokens": MAX_TOKENS}
        )
    if not result.is_error:
        return None
    error = result.structured_content["error"]
    assert error["code"] == code and error["status"] == 429
    assert error["retry_after"] >= 1  # what HTTP's Retry-After and gRPC's trailer say
    assert result.content[0].text == error["message"]
    return error["message"]


INTERFACES = {"http": via_openai, "anthropic": via_anthropic, "grpc": via_grpc, "mcp": via_mcp}


async def refusals(gateway, key: str, code: str) -> dict[str, str | None]:
    return {name: await call(gateway, key, code) for name, call in INTERFACES.items()}


async def test_rpm_is_shared_by_http_and_grpc_and_refused_on_every_interface(live):
    key = live.create_key("shared", rpm=4)
    for admitted in (via_openai, via_openai, via_grpc, via_grpc):
        assert await admitted(live, key, "rate_limit_exceeded") is None
    refused = await refusals(live, key, "rate_limit_exceeded")
    message = "Rate limit of 4 requests per minute reached for key 'shared'."
    assert refused == dict.fromkeys(INTERFACES, message)
    found = await asyncio.to_thread(records, live, 4)  # refusals leave no usage
    assert sorted(r["interface"] for r in found) == ["grpc", "grpc", "http", "http"]


async def test_each_interface_spends_the_same_rpm(live):
    key = live.create_key("everywhere", rpm=4)
    for call in INTERFACES.values():
        assert await call(live, key, "rate_limit_exceeded") is None
    refused = await refusals(live, key, "rate_limit_exceeded")
    assert set(refused.values()) == {
        "Rate limit of 4 requests per minute reached for key 'everywhere'."
    }
    found = await asyncio.to_thread(records, live, 4)
    assert sorted(r["interface"] for r in found) == sorted(INTERFACES)


async def test_an_exhausted_quota_is_refused_on_every_interface(live):
    key = live.create_key("budget", quota=20, quota_period="day")
    # The estimate (prompt + max_tokens) fits; the real usage (18) leaves too little.
    assert await via_grpc(live, key, "insufficient_quota") is None
    refused = await refusals(live, key, "insufficient_quota")
    assert len(set(refused.values())) == 1
    message = refused["http"]
    assert message is not None
    assert "Token quota of 20 for today (UTC) for key 'budget' is exhausted (18 used)" in message
    (record,) = await asyncio.to_thread(records, live, 1)
    assert record["interface"] == "grpc" and record["total_tokens"] == 18


async def test_a_grpc_stream_holds_its_concurrency_slot_until_cancelled(live):
    """A stream in flight over gRPC fills the key's only slot for MCP callers; the
    client cancelling it frees the slot and records the call as cancelled."""
    key = live.create_key("single", concurrency=1)
    channel = grpc.aio.insecure_channel(live.grpc_target)
    try:
        extra = struct_pb2.Struct()
        extra.update({"fake_words": 200, "fake_delay": 0.05})
        call = chat_pb2_grpc.ChatServiceStub(channel).StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="fake", messages=[user("x")], extra=extra),
            metadata=grpc_auth(key),
            timeout=10,
        )
        first = await call.read()
        assert first.choices[0].delta.content == "w0 "
        refused = await via_mcp(live, key, "rate_limit_exceeded")
        assert refused == "Key 'single' already has 1 requests in flight."
        call.cancel()
    finally:
        await channel.close()
    (record,) = await asyncio.to_thread(records, live, 1)
    assert (record["interface"], record["status"], record["stream"]) == ("grpc", "cancelled", True)
    assert await via_mcp(live, key, "rate_limit_exceeded") is None

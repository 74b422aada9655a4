"""Every failure reaches a gRPC client as the right status code with a clear message,
before and after the stream started, and leaves its usage record."""

from __future__ import annotations

import grpc
import pytest

from lowart._proto import chat_pb2
from tests.frontends.grpc.conftest import auth
from tests.support.servers import GatewayHandle


def _request(model: str = "mock", **fields) -> chat_pb2.CreateChatCompletionRequest:
    fields.setdefault("messages", [chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")])
    return chat_pb2.CreateChatCompletionRequest(model=model, **fields)


def _stream_request(model: str = "mock", **fields) -> chat_pb2.StreamChatCompletionRequest:
    fields.setdefault("messages", [chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")])
    return chat_pb2.StreamChatCompletionRequest(model=model, **fields)


def _unary_error(chat, request, metadata=()) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        chat.CreateChatCompletion(request, metadata=metadata, timeout=10)
    return info.value


def _stream_error(chat, request, metadata=()) -> tuple[list, grpc.RpcError]:
    received = []
    with pytest.raises(grpc.RpcError) as info:
        for message in chat.StreamChatCompletion(request, metadata=metadata, timeout=10):
            received.append(message)
    return received, info.value


@pytest.mark.parametrize(
    "metadata",
    [(), (("authorization", "Bearer la-not-a-real-key"),), (("authorization", "Basic abc"),)],
    ids=["missing", "wrong", "not-bearer"],
)
def test_bad_key_is_unauthenticated(grpc_gateway: GatewayHandle, chat, metadata) -> None:
    error = _unary_error(chat, _request(), metadata)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "API key" in error.details()
    _, error = _stream_error(chat, _stream_request(), metadata)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_gateway.usage_records() == []  # never reached routing


def test_unknown_model_is_not_found(grpc_gateway: GatewayHandle, chat) -> None:
    error = _unary_error(chat, _request("no-such-model"), auth(grpc_gateway.admin_key))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-model" in error.details()
    _, error = _stream_error(chat, _stream_request("no-such-model"), auth(grpc_gateway.admin_key))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_model_outside_the_key_is_permission_denied(grpc_gateway: GatewayHandle, chat) -> None:
    key = grpc_gateway.create_key("mock-only", models=["mock"])
    error = _unary_error(chat, _request("fake"), auth(key))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'fake'" in error.details()


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"messages": []}, "'messages' must be a non-empty array"),
        ({"messages": [chat_pb2.Message(content="no role")]}, "'messages[0].role' must be set"),
        ({"max_tokens": 0}, "'max_tokens' must be at least 1"),
        (
            {
                "messages": [
                    chat_pb2.Message(role=chat_pb2.ROLE_USER, parts=[chat_pb2.ContentPart()])
                ]
            },
            "'messages[0].parts[0]' is empty",
        ),
        (
            {"response_format": chat_pb2.ResponseFormat()},
            "'response_format.type' must be set",
        ),
    ],
    ids=["no-messages", "no-role", "max-tokens", "empty-part", "format"],
)
def test_invalid_argument(grpc_gateway: GatewayHandle, chat, fields, fragment) -> None:
    error = _unary_error(chat, _request(**fields), auth(grpc_gateway.admin_key))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in error.details()


def test_extra_may_not_replace_the_model(grpc_gateway: GatewayHandle, chat) -> None:
    request = _request()
    request.extra.update({"model": "something-else"})
    error = _unary_error(chat, request, auth(grpc_gateway.admin_key))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'extra' may not set model" in error.details()


def test_rate_limit_is_resource_exhausted(grpc_gateway: GatewayHandle, chat) -> None:
    key = grpc_gateway.create_key("slowpoke", rpm=1)
    chat.CreateChatCompletion(_request(), metadata=auth(key), timeout=10)
    with pytest.raises(grpc.RpcError) as info:
        chat.CreateChatCompletion.with_call(_request(), metadata=auth(key), timeout=10)
    error = info.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert int(dict(error.trailing_metadata())["retry-after"]) >= 1


def test_upstream_failure_before_the_stream(grpc_gateway: GatewayHandle, chat) -> None:
    fake = grpc_gateway.extra["fake"]
    grpc_gateway.add_model("broken", "openai", base_url=fake.base_url, upstream_model="fail-500")
    key = auth(grpc_gateway.admin_key)
    error = _unary_error(chat, _request("broken"), key)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "fake failure 500" in error.details()
    received, error = _stream_error(chat, _stream_request("broken"), key)
    assert received == []
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    records = grpc_gateway.wait_for_records(2)
    assert [(r["interface"], r["status"], r["stream"]) for r in records] == [
        ("grpc", "error", False),
        ("grpc", "error", True),
    ]


def test_upstream_client_error_is_passed_on(grpc_gateway: GatewayHandle, chat) -> None:
    fake = grpc_gateway.extra["fake"]
    grpc_gateway.add_model("picky", "openai", base_url=fake.base_url, upstream_model="fail-400")
    error = _unary_error(chat, _request("picky"), auth(grpc_gateway.admin_key))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "fake failure 400" in error.details()


def test_upstream_failure_during_the_stream_ends_it_with_a_status(
    grpc_gateway: GatewayHandle, chat
) -> None:
    fake = grpc_gateway.extra["fake"]
    grpc_gateway.add_model("flaky", "openai", base_url=fake.base_url, upstream_model="drop")
    request = _stream_request("flaky")
    request.extra.update({"fake_words": 10})
    received, error = _stream_error(chat, request, auth(grpc_gateway.admin_key))
    text = "".join(c.delta.content for m in received for c in m.choices)
    # The fake dies after three words; how many of them the gateway's HTTP client
    # still reads before it notices depends on timing, but never none, never more.
    assert text in ("w0 ", "w0 w1 ", "w0 w1 w2 ")
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "dropped the connection" in error.details()
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["status"] == "error" and record["interface"] == "grpc"
    assert record["completion_tokens"] > 0  # the tokens that were generated are counted


def test_errors_carry_no_secrets_or_traces(grpc_gateway: GatewayHandle, chat) -> None:
    fake = grpc_gateway.extra["fake"]
    grpc_gateway.add_model(
        "leaky", "openai", base_url=fake.base_url, upstream_model="fail-502", api_key="sk-hidden"
    )
    error = _unary_error(chat, _request("leaky"), auth(grpc_gateway.admin_key))
    assert "sk-hidden" not in error.details() and "Traceback" not in error.details()
    assert "sk-hidden" not in str(error.trailing_metadata())

"""Cancellation, deadlines, health, reflection, the socket file and graceful shutdown."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from lowart._proto import chat_pb2
from tests.frontends.grpc.conftest import auth
from tests.support.servers import GatewayHandle


def _stream_request(model: str, **extra) -> chat_pb2.StreamChatCompletionRequest:
    request = chat_pb2.StreamChatCompletionRequest(
        model=model, messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="go")]
    )
    request.extra.update(extra)
    return request


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_client_cancel_stops_the_upstream_and_records_usage(
    grpc_gateway: GatewayHandle, chat
) -> None:
    fake = grpc_gateway.extra["fake"]
    call = chat.StreamChatCompletion(
        _stream_request("fake", fake_words=200, fake_delay=0.02),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    received = [next(call) for _ in range(3)]
    assert "".join(c.delta.content for m in received for c in m.choices) == "w0 w1 w2 "
    call.cancel()
    assert fake.requests[-1]["fake_words"] == 200  # `extra` reached the upstream
    assert _eventually(lambda: fake.streams_cancelled == 1), "upstream stream was not cancelled"
    assert fake.streams_finished == 0
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["status"] == "cancelled" and record["interface"] == "grpc"
    assert record["stream"] is True
    # counted with the tokenizer: at least the words the client saw, far from all 200
    assert 3 <= record["completion_tokens"] < 200


def test_stream_deadline_exceeded(grpc_gateway: GatewayHandle, chat) -> None:
    fake = grpc_gateway.extra["fake"]
    received = []
    with pytest.raises(grpc.RpcError) as info:
        for message in chat.StreamChatCompletion(
            _stream_request("fake", fake_words=200, fake_delay=0.02),
            metadata=auth(grpc_gateway.admin_key),
            timeout=0.5,
        ):
            received.append(message)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert received  # the stream had started
    assert _eventually(lambda: fake.streams_cancelled == 1), "upstream stream was not cancelled"
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["status"] in ("cancelled", "error")
    assert record["completion_tokens"] > 0


def test_unary_deadline_exceeded(grpc_gateway: GatewayHandle, chat) -> None:
    fake = grpc_gateway.extra["fake"]
    grpc_gateway.add_model("sleepy", "openai", base_url=fake.base_url, upstream_model="slow")
    request = chat_pb2.CreateChatCompletionRequest(
        model="sleepy", messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")]
    )
    request.extra.update({"fake_delay": 5})
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as info:
        chat.CreateChatCompletion(request, metadata=auth(grpc_gateway.admin_key), timeout=0.4)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 2
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["status"] in ("cancelled", "error") and record["interface"] == "grpc"
    assert record["latency_ms"] < 2000  # the gateway gave up with the client


def test_health(grpc_gateway: GatewayHandle, channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in (
        "",
        "lowart.v1.ChatService",
        "lowart.v1.ModelService",
        "lowart.v1.ImageService",
    ):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as info:
        stub.Check(health_pb2.HealthCheckRequest(service="no.Such"), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_and_describes_services(grpc_gateway: GatewayHandle, channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="lowart.v1.ChatService"),
    ]
    listing, described = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in listing.list_services_response.service}
    assert {
        "lowart.v1.ChatService",
        "lowart.v1.ModelService",
        "lowart.v1.ImageService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in described.file_descriptor_response.file_descriptor_proto
    ]
    chat_file = next(f for f in files if f.name == "lowart/v1/chat.proto")
    (service,) = chat_file.service
    assert [m.name for m in service.method] == ["CreateChatCompletion", "StreamChatCompletion"]
    assert service.method[1].server_streaming


def test_unix_socket_is_owner_only(grpc_gateway: GatewayHandle) -> None:
    mode = os.stat(grpc_gateway.grpc.uds).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600


def test_shutdown_drains_streams_and_removes_the_socket(
    grpc_gateway: GatewayHandle, tcp_channel, tcp_chat
) -> None:
    listener = grpc_gateway.grpc
    health = health_pb2_grpc.HealthStub(tcp_channel)
    watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    stream = tcp_chat.StreamChatCompletion(
        _stream_request("fake", fake_words=15, fake_delay=0.03),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    first = next(stream)
    stopping = asyncio.run_coroutine_threadsafe(listener.stop(), grpc_gateway.loop.loop)
    assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    watch.cancel()  # a watch never ends by itself; it would hold the shutdown to the grace
    rest = list(stream)  # the in-flight stream completes within the grace period
    text = "".join(c.delta.content for m in [first, *rest] for c in m.choices)
    assert text == "".join(f"w{i} " for i in range(15))
    assert rest[-1].usage.completion_tokens == 15
    stopping.result(timeout=10)
    assert not os.path.exists(listener.uds)
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["status"] == "ok"

"""Breakers count the deployment's failures, not a caller's impatience; an admin can close one."""

from __future__ import annotations

import asyncio

import aiohttp
import grpc
import pytest
from google.protobuf import struct_pb2

from lowart._proto import chat_pb2, chat_pb2_grpc
from tests.routing.test_failover import FAST, ask, fallback, refused_url

BREAKER = {**FAST, "retries": 0, "breaker_min_calls": 2, "breaker_failure_ratio": 0.5}


def _circuit(gateway, name: str) -> str:
    status, body = gateway.admin_call("GET", "/admin/models")
    assert status == 200
    return next(m["circuit"] for m in body["data"] if m["name"] == name)


def _post_as(gateway, key: str, path: str) -> int:
    async def post() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                gateway.base_url + path, headers={"Authorization": f"Bearer {key}"}
            ) as response,
        ):
            return response.status

    return asyncio.run(post())


def test_callers_running_out_of_their_own_deadline_do_not_open_the_circuit(gateway):
    fake = gateway.extra["fake"]
    gateway.add_model(
        "patient", "openai", base_url=fake.base_url, upstream_model="slow", options=BREAKER
    )
    gateway.start_grpc()
    extra = struct_pb2.Struct()
    extra.update({"fake_delay": 2})
    request = chat_pb2.CreateChatCompletionRequest(
        model="patient",
        messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")],
        extra=extra,
    )
    metadata = (("authorization", f"Bearer {gateway.admin_key}"),)
    with grpc.insecure_channel(gateway.grpc_target) as channel:
        chat = chat_pb2_grpc.ChatServiceStub(channel)
        for _ in range(4):  # impatient callers: each gives up after 0.3 s
            with pytest.raises(grpc.RpcError) as failed:
                chat.CreateChatCompletion(request, metadata=metadata, timeout=0.3)
            assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert _circuit(gateway, "patient") == "closed"  # the deployment did nothing wrong


def test_an_admin_closes_an_open_circuit(gateway):
    fake = gateway.extra["fake"]
    gateway.add_model("flaky", "openai", base_url=refused_url(), options=BREAKER)
    gateway.add_model("spare", "mock")
    fallback(gateway, "flaky", "spare")
    for _ in range(2):
        assert ask(gateway, "flaky").model == "spare"
    assert _circuit(gateway, "flaky") == "open"
    deployment = gateway.run(gateway.runtime.admin.models.get("flaky"))["id"]
    status, _ = gateway.admin_call(
        "PATCH",
        f"/admin/models/flaky?deployment={deployment}",
        {"base_url": fake.base_url, "upstream_model": "echo"},
    )
    assert status == 200

    status, body = gateway.admin_call("POST", "/admin/models/flaky/circuit/reset")

    assert status == 200
    assert [m["circuit"] for m in body["data"]] == ["closed"]
    assert ask(gateway, "flaky").model == "flaky"  # tried again at once, no cool-down wait
    other = gateway.create_key("not-admin")
    assert _post_as(gateway, other, "/admin/models/flaky/circuit/reset") == 403

"""Refusals on the gRPC binding are gRPC statuses (a raw stub, as any gRPC client sees them)."""

from __future__ import annotations

import grpc
import pytest
from a2a.types import a2a_pb2, a2a_pb2_grpc

from tests.frontends.a2a.conftest import user_message


async def call(target: str, method: str, request, metadata=()):
    async with grpc.aio.insecure_channel(target) as channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)
        return await getattr(stub, method)(request, metadata=metadata)


@pytest.mark.parametrize("socket", [False, True])
async def test_refusals_are_grpc_statuses(a2a_gateway, socket):
    target = f"unix:{a2a_gateway.grpc.uds}" if socket else a2a_gateway.grpc_target
    auth = (("authorization", f"Bearer {a2a_gateway.admin_key}"), ("a2a-version", "1.0"))
    send = a2a_pb2.SendMessageRequest(message=user_message("hi"))

    with pytest.raises(grpc.aio.AioRpcError) as missing_key:
        await call(target, "GetTask", a2a_pb2.GetTaskRequest(id="any"))
    assert missing_key.value.code() == grpc.StatusCode.UNAUTHENTICATED

    with pytest.raises(grpc.aio.AioRpcError) as bad_key:
        await call(target, "SendMessage", send, (("authorization", "Bearer la-wrong"),))
    assert bad_key.value.code() == grpc.StatusCode.UNAUTHENTICATED

    send.tenant = "no-such-model"
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await call(target, "SendMessage", send, auth)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-model" in unknown.value.details()

    limited = a2a_gateway.create_key(f"limited-{socket}", models=["echo"])
    send.tenant = "slow"
    with pytest.raises(grpc.aio.AioRpcError) as forbidden:
        await call(target, "SendMessage", send, (("authorization", f"Bearer {limited}"),))
    assert forbidden.value.code() == grpc.StatusCode.PERMISSION_DENIED

    with pytest.raises(grpc.aio.AioRpcError) as not_found:
        await call(target, "GetTask", a2a_pb2.GetTaskRequest(id="nope"), auth)
    assert not_found.value.code() == grpc.StatusCode.NOT_FOUND

    send.tenant = "echo"
    reply = await call(target, "SendMessage", send, auth)
    assert reply.task.status.state == a2a_pb2.TaskState.TASK_STATE_COMPLETED

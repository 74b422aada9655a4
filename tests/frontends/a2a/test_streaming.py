"""Streaming, cancel and resubscribe over each binding, with the official a2a-sdk client."""

from __future__ import annotations

import asyncio

import pytest
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    TaskState,
)

from tests.frontends.a2a.conftest import BINDINGS, LONG_REPLY, agent, user_message


@pytest.mark.parametrize("binding", BINDINGS)
async def test_stream_relays_tokens_as_artifact_appends(a2a_gateway, binding):
    async with agent(a2a_gateway, "slow", binding, streaming=True) as caller:
        events = await caller.send("stream me these words please")
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[0] == "task"
    updates = [e.artifact_update for e in events if e.HasField("artifact_update")]
    assert len(updates) > 1, "the answer should arrive in several pieces"
    assert not updates[0].append and all(u.append for u in updates[1:])
    assert updates[-1].last_chunk
    text = "".join(p.text for u in updates for p in u.artifact.parts)
    assert text == "This is the lowart mock model. You said: stream me these words please"
    final = events[-1]
    assert final.HasField("status_update")
    assert final.status_update.status.state == TaskState.TASK_STATE_COMPLETED
    records = await asyncio.to_thread(a2a_gateway.wait_for_records, 1)
    assert records[-1]["interface"] == "a2a" and records[-1]["status"] == "ok"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_cancel_stops_the_call_and_records_tokens_so_far(a2a_gateway, binding):
    async with agent(a2a_gateway, "long", binding, streaming=True) as caller:
        request = SendMessageRequest(message=user_message("go on"))
        stream = caller.client.send_message(request, context=caller.ctx)
        task_id = None
        pieces = 0
        async for event in stream:
            if event.HasField("task"):
                task_id = event.task.id
            if event.HasField("artifact_update"):
                pieces += 1
                if pieces == 2:
                    break
        await stream.aclose()
        assert task_id
        cancelled = await caller.client.cancel_task(
            CancelTaskRequest(id=task_id), context=caller.ctx
        )
        assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        got = await caller.client.get_task(GetTaskRequest(id=task_id), context=caller.ctx)
        assert got.status.state == TaskState.TASK_STATE_CANCELED
    records = await asyncio.to_thread(a2a_gateway.wait_for_records, 1)
    record = records[-1]
    assert record["status"] == "cancelled" and record["interface"] == "a2a"
    assert 0 < record["completion_tokens"] < 200


@pytest.mark.parametrize("binding", BINDINGS)
async def test_resubscribe_after_a_dropped_stream(a2a_gateway, binding):
    async with agent(a2a_gateway, "long", binding, streaming=True) as caller:
        request = SendMessageRequest(message=user_message("keep going"))
        stream = caller.client.send_message(request, context=caller.ctx)
        task_id = None
        async for event in stream:
            if event.HasField("task"):
                task_id = event.task.id
            if event.HasField("artifact_update"):
                break  # the client drops the stream; the task goes on
        await stream.aclose()
        assert task_id
        seen = []
        async for event in caller.client.subscribe(
            SubscribeToTaskRequest(id=task_id), context=caller.ctx
        ):
            seen.append(event)
        assert seen[0].HasField("task") and seen[0].task.id == task_id
        assert seen[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
        got = await caller.client.get_task(GetTaskRequest(id=task_id), context=caller.ctx)
        answer = "".join(p.text for a in got.artifacts for p in a.parts)
        assert answer == LONG_REPLY


@pytest.mark.parametrize("binding", ["JSONRPC", "GRPC"])
async def test_return_immediately_then_poll(a2a_gateway, binding):
    async with agent(a2a_gateway, "slow", binding) as caller:
        request = SendMessageRequest(
            message=user_message("in the background"),
            configuration=SendMessageConfiguration(return_immediately=True),
        )
        first = (await caller.events(request))[0].task
        assert first.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)
        for _ in range(200):
            got = await caller.client.get_task(GetTaskRequest(id=first.id), context=caller.ctx)
            if got.status.state == TaskState.TASK_STATE_COMPLETED:
                break
            await asyncio.sleep(0.05)
        assert got.status.state == TaskState.TASK_STATE_COMPLETED

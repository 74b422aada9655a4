"""Tasks last: a task started before a restart is still there after it."""

from __future__ import annotations

import asyncio

from a2a.types.a2a_pb2 import (
    GetTaskRequest,
    ListTasksRequest,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskState,
)

from tests.frontends.a2a.conftest import agent, start_a2a_gateway, user_message
from tests.support.servers import stop_gateway


async def test_a_task_survives_a_restart_in_the_middle(loop_thread, tmp_path, short_dir):
    handle = start_a2a_gateway(loop_thread, tmp_path, short_dir)
    key = handle.create_key("agent-user")
    try:
        async with agent(handle, "long", "JSONRPC", key=key) as caller:
            done = (await caller.send("before the restart"))[0].task
            request = SendMessageRequest(
                message=user_message("interrupted by a restart"),
                configuration=SendMessageConfiguration(return_immediately=True),
            )
            running = await caller.events(request)
            task_id = running[0].task.id
            for _ in range(100):  # wait until some of the answer is stored
                got = await caller.client.get_task(GetTaskRequest(id=task_id), context=caller.ctx)
                if got.artifacts:
                    break
                await asyncio.sleep(0.05)
            assert got.status.state == TaskState.TASK_STATE_WORKING
    finally:
        stop_gateway(handle)  # the gateway goes away mid-task

    handle = start_a2a_gateway(loop_thread, tmp_path, short_dir, restarted=True)  # same database
    try:
        async with agent(handle, "echo", "HTTP+JSON", key=key) as caller:
            after = await caller.client.get_task(GetTaskRequest(id=task_id), context=caller.ctx)
            assert after.id == task_id
            # Nothing will finish it: it says so instead of staying `working` forever.
            assert after.status.state == TaskState.TASK_STATE_FAILED
            assert "stopped before this task finished" in after.status.message.parts[0].text
            assert after.history[0].parts[0].text == "interrupted by a restart"
            assert after.artifacts, "the part of the answer written before the restart"
            old = await caller.client.get_task(GetTaskRequest(id=done.id), context=caller.ctx)
            assert old.status.state == TaskState.TASK_STATE_COMPLETED
            listed = await caller.client.list_tasks(ListTasksRequest(), context=caller.ctx)
            assert {t.id for t in listed.tasks} == {task_id, done.id}
    finally:
        stop_gateway(handle)

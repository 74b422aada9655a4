"""Send, get, list and multi-turn over each binding, with the official a2a-sdk client."""

from __future__ import annotations

import asyncio

import pytest
from a2a.types.a2a_pb2 import CancelTaskRequest, GetTaskRequest, ListTasksRequest, TaskState
from a2a.utils.errors import TaskNotFoundError

from tests.frontends.a2a.conftest import BINDINGS, agent


def answer_of(task) -> str:
    return "".join(p.text for a in task.artifacts if a.name == "answer" for p in a.parts)


@pytest.mark.parametrize("binding", BINDINGS)
async def test_send_get_and_list(a2a_gateway, binding):
    async with agent(a2a_gateway, "echo", binding) as caller:
        events = await caller.send("hello over a2a")
        assert len(events) == 1 and events[0].HasField("task")
        task = events[0].task
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert answer_of(task) == "This is the lowart mock model. You said: hello over a2a"
        assert task.status.message.metadata["model"] == "echo"

        got = await caller.client.get_task(GetTaskRequest(id=task.id), context=caller.ctx)
        assert got.id == task.id and answer_of(got) == answer_of(task)
        assert got.history[0].parts[0].text == "hello over a2a"

        listed = await caller.client.list_tasks(
            ListTasksRequest(include_artifacts=True), context=caller.ctx
        )
        assert [t.id for t in listed.tasks] == [task.id]
        assert listed.total_size == 1

    records = await asyncio.to_thread(a2a_gateway.wait_for_records, 1)
    assert records[-1]["interface"] == "a2a" and records[-1]["route"] == "echo"
    assert records[-1]["completion_tokens"] > 0


@pytest.mark.parametrize("binding", BINDINGS)
async def test_context_continues_the_conversation(a2a_gateway, fake_openai, binding):
    a2a_gateway.add_model(
        "fake", "openai", base_url=fake_openai.base_url, upstream_model="echo", api_key="sk-x"
    )
    async with agent(a2a_gateway, "fake", binding) as caller:
        first = (await caller.send("my name is Ada"))[0].task
        second = (await caller.send("what is my name?", context_id=first.context_id))[0].task
        assert second.context_id == first.context_id and second.id != first.id
        # The route saw the earlier turn (and its answer) before the new question.
        sent = fake_openai.requests[-1]["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert sent[0]["content"] == "my name is Ada"
        assert sent[1]["content"] == answer_of(first)
        assert sent[2]["content"] == "what is my name?"
        # A new conversation starts empty.
        await caller.send("fresh start")
        assert [m["role"] for m in fake_openai.requests[-1]["messages"]] == ["user"]
        listed = await caller.client.list_tasks(
            ListTasksRequest(context_id=first.context_id), context=caller.ctx
        )
        assert {t.id for t in listed.tasks} == {first.id, second.id}


@pytest.mark.parametrize("binding", BINDINGS)
async def test_another_keys_task_is_not_found(a2a_gateway, binding):
    other = a2a_gateway.create_key("other")
    async with agent(a2a_gateway, "echo", binding) as owner:
        task = (await owner.send("secret"))[0].task
    async with agent(a2a_gateway, "echo", binding, key=other) as stranger:
        with pytest.raises(TaskNotFoundError):
            await stranger.client.get_task(GetTaskRequest(id=task.id), context=stranger.ctx)
        with pytest.raises(TaskNotFoundError):
            await stranger.client.cancel_task(CancelTaskRequest(id=task.id), context=stranger.ctx)
        listed = await stranger.client.list_tasks(ListTasksRequest(), context=stranger.ctx)
        assert list(listed.tasks) == []

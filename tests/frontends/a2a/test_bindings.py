"""Send, get, list and multi-turn over each binding, with the official a2a-sdk client."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Part,
    SendMessageRequest,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError

from tests.frontends.a2a.conftest import BINDINGS, agent, user_message


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


@pytest.mark.parametrize("binding", BINDINGS)
async def test_errors_fail_the_task_with_a_readable_message(a2a_gateway, fake_openai, binding):
    a2a_gateway.add_model(
        "fake", "openai", base_url=fake_openai.base_url, upstream_model="echo", api_key="sk-hush"
    )
    fake_openai.fail_next(5, status=400)
    async with agent(a2a_gateway, "fake", binding) as caller:
        task = (await caller.send("this will fail"))[0].task
        assert task.status.state == TaskState.TASK_STATE_FAILED
        note = task.status.message
        assert note.parts[0].text and "Traceback" not in note.parts[0].text
        assert "sk-hush" not in str(task) and fake_openai.base_url not in str(task)
        assert note.metadata["error"]["status"] >= 400
        # A part the agent cannot read is refused in words, before any call.
        message = user_message("look at this")
        message.parts.append(Part(raw=b"\x89PNG", media_type="image/png"))
        events = await caller.events(SendMessageRequest(message=message))
        failed = events[0].task
        assert failed.status.state == TaskState.TASK_STATE_FAILED
        assert "text parts only" in failed.status.message.parts[0].text


async def test_an_unknown_route_as_tenant_is_refused(a2a_gateway):
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {
            "tenant": "no-such-model",
            "message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
        },
    }
    headers = {"Authorization": f"Bearer {a2a_gateway.admin_key}", "A2A-Version": "1.0"}
    async with httpx.AsyncClient() as http:
        reply = (await http.post(a2a_gateway.base_url + "/a2a", json=body, headers=headers)).json()
    assert reply["error"]["code"] == -32602  # invalid params
    assert "no-such-model" in reply["error"]["message"]


async def test_a_v0_3_client_is_understood(a2a_gateway):
    """JSON-RPC also speaks protocol 0.3 (`message/send`), for agents not yet on 1.0."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "message/send",
        "params": {
            "message": {
                "kind": "message",
                "messageId": "m1",
                "role": "user",
                "parts": [{"kind": "text", "text": "hello from 0.3"}],
            }
        },
    }
    headers = {"Authorization": f"Bearer {a2a_gateway.admin_key}"}
    async with httpx.AsyncClient() as http:
        reply = await http.post(a2a_gateway.base_url + "/a2a/echo", json=body, headers=headers)
    result = reply.json()["result"]
    assert result["kind"] == "task" and result["status"]["state"] == "completed"
    assert "hello from 0.3" in result["artifacts"][0]["parts"][0]["text"]

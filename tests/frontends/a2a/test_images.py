"""A message to an image route runs its ComfyUI workflow (the fake ComfyUI here)."""

from __future__ import annotations

import asyncio

import pytest
from a2a.types.a2a_pb2 import CancelTaskRequest, SendMessageRequest, TaskState
from google.protobuf.struct_pb2 import Struct

from tests.frontends.a2a.conftest import agent, user_message
from tests.images._client import png_size
from tests.images.conftest import comfy_options


@pytest.fixture
def img_gateway(a2a_gateway, fake_comfyui):
    a2a_gateway.add_model("img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options())
    a2a_gateway.extra["comfy"] = fake_comfyui
    return a2a_gateway


def image_message(prompt: str, **options):
    metadata = Struct()
    metadata.update(options)
    return user_message(prompt, metadata=metadata)


@pytest.mark.parametrize("binding", ["JSONRPC", "GRPC"])
async def test_image_task_streams_progress_and_returns_the_image(img_gateway, binding):
    comfy = img_gateway.extra["comfy"]
    async with agent(img_gateway, "img", binding, streaming=True) as caller:
        request = SendMessageRequest(
            message=image_message("a lighthouse", size="48x32", seed=5, steps=3)
        )
        events = await caller.events(request)
    working = [
        e.status_update.status
        for e in events
        if e.HasField("status_update")
        and e.status_update.status.state == TaskState.TASK_STATE_WORKING
    ]
    assert any(s.message.parts for s in working), "progress arrives as working updates"
    (artifact,) = [e.artifact_update.artifact for e in events if e.HasField("artifact_update")]
    assert artifact.name == "images"
    (part,) = artifact.parts
    assert part.media_type == "image/png" and png_size(part.raw) == (48, 32)
    assert "/v1/files/" in part.metadata["url"]
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    assert comfy.prompts[-1]["prompt"]["6"]["inputs"]["text"] == "a lighthouse"
    records = await asyncio.to_thread(img_gateway.wait_for_records, 1)
    assert records[-1]["interface"] == "a2a" and records[-1]["route"] == "img"


async def test_cancelling_an_image_task_interrupts_the_prompt(img_gateway):
    comfy = img_gateway.extra["comfy"]
    comfy.pause()
    try:
        async with agent(img_gateway, "img", "HTTP+JSON", streaming=True) as caller:
            request = SendMessageRequest(message=image_message("a slow painting", steps=3))
            stream = caller.client.send_message(request, context=caller.ctx)
            task_id = None
            async for event in stream:
                if event.HasField("task"):
                    task_id = event.task.id
                if (
                    event.HasField("status_update")
                    and event.status_update.status.state == TaskState.TASK_STATE_WORKING
                    and comfy.running_prompt_id is not None
                ):
                    break
            await stream.aclose()
            assert task_id
            for _ in range(100):
                if comfy.running_prompt_id is not None:
                    break
                await asyncio.sleep(0.05)
            cancelled = await caller.client.cancel_task(
                CancelTaskRequest(id=task_id), context=caller.ctx
            )
            assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        for _ in range(100):
            if comfy.interrupts:
                break
            await asyncio.sleep(0.05)
        assert comfy.interrupts, "the running prompt was interrupted on ComfyUI"
    finally:
        comfy.resume()

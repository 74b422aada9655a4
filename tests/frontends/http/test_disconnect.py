"""A client that leaves stops the work it asked for: the upstream call, the ComfyUI
prompt, and the key's concurrency slot, at once rather than when the work ends."""

from __future__ import annotations

import asyncio

import aiohttp
import openai
import pytest

from tests.images._client import wait_until
from tests.images.conftest import comfy_options


async def _leave_after(url: str, key: str, body: dict, seconds: float) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            async with asyncio.timeout(seconds):
                async with session.post(
                    url, json=body, headers={"Authorization": f"Bearer {key}"}
                ) as response:
                    await response.read()


def test_leaving_a_non_streamed_chat_cancels_it_and_frees_the_slot(gateway, fake_openai):
    gateway.add_model("slow", "openai", base_url=fake_openai.base_url, upstream_model="slow")
    key = gateway.create_key("one-at-a-time", concurrency=1)
    body = {"model": "slow", "messages": [{"role": "user", "content": "hi"}], "fake_delay": 5}
    asyncio.run(_leave_after(gateway.openai_base_url + "/chat/completions", key, body, 0.5))

    records = gateway.wait_for_records(1, timeout=3)  # not after the upstream's 5 s
    assert [r["status"] for r in records] == ["cancelled"]
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    reply = api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content  # the slot was free again at once


def test_leaving_a_synchronous_image_generation_interrupts_the_prompt(gateway, fake_comfyui):
    comfy = fake_comfyui
    gateway.add_model("img", "comfyui", base_url=comfy.base_url, options=comfy_options())
    comfy.pause()  # ComfyUI starts the prompt and holds it
    body = {"model": "img", "prompt": "a cat", "size": "16x16"}
    asyncio.run(
        _leave_after(gateway.openai_base_url + "/images/generations", gateway.admin_key, body, 1.0)
    )
    prompt_id = comfy.prompts[-1]["prompt_id"]
    wait_until(lambda: comfy.interrupts == [prompt_id], timeout=5, what="the interrupt")
    records = gateway.wait_for_records(1)
    assert [r["status"] for r in records] == ["cancelled"]


def test_leaving_a_slow_stream_stops_it_before_the_next_chunk(gateway, fake_openai):
    gateway.add_model("slow", "openai", base_url=fake_openai.base_url, upstream_model="echo")
    body = {
        "model": "slow",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "fake_words": 5,
        "fake_delay": 10,  # ten seconds between chunks
    }

    async def read_one_chunk_and_leave() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                gateway.openai_base_url + "/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {gateway.admin_key}"},
            ) as response:
                await response.content.readline()

    asyncio.run(read_one_chunk_and_leave())
    records = gateway.wait_for_records(1, timeout=3)  # not at the next chunk, 10 s on
    assert [r["status"] for r in records] == ["cancelled"]

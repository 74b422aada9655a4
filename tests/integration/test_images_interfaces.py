"""A ComfyUI image route (issue 5) reached through chat on the other interfaces: gRPC
(issue 3), the Anthropic Messages API (issue 4) and MCP's `chat` tool (issue 7), and
the per-key RPM (issue 8) counting image calls like any other."""

from __future__ import annotations

import asyncio
import re

import grpc
import pytest

from lowart._proto import chat_pb2
from tests.images._client import http
from tests.images.conftest import comfy_options
from tests.integration.conftest import (
    anthropic_client,
    grpc_auth,
    mcp_url,
    openai_client,
    records,
    user,
)
from tests.support.mcp_client import http_client

LINK = re.compile(r"!\[image \d+\]\((http://[^)]+/v1/files/file-[0-9a-f]+/content)\)")
PATH = re.compile(r"!\[image \d+\]\((/v1/files/file-[0-9a-f]+/content)\)")


def fetch(gateway, url: str) -> tuple[int, bytes]:
    with http(gateway) as client:
        reply = client.get(url)
    return reply.status_code, reply.content


@pytest.fixture
def img(live, fake_comfyui):
    live.add_model("img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options())
    live.extra["comfy"] = fake_comfyui
    return live


def test_grpc_unary_and_stream_on_an_image_route(img, chat):
    """gRPC has no HTTP origin: without LOWART_PUBLIC_URL the links are paths on the
    gateway's HTTP API, and they do name the generated files."""
    reply = chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(model="img", messages=[user("a lighthouse")]),
        metadata=grpc_auth(img.admin_key),
        timeout=20,
    )
    assert reply.model == "img"
    (path,) = PATH.findall(reply.choices[0].message.content)
    status, image = fetch(img, img.base_url + path)
    assert status == 200 and image.startswith(b"\x89PNG")
    assert img.extra["comfy"].prompts[-1]["prompt"]["6"]["inputs"]["text"] == "a lighthouse"
    messages = list(
        chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="img", messages=[user("a dragon")]),
            metadata=grpc_auth(img.admin_key),
            timeout=20,
        )
    )
    texts = [c.delta.content for m in messages for c in m.choices if c.delta.content]
    assert texts[0].startswith("Queued") and len(PATH.findall(texts[-1])) == 1
    found = records(img, 2)
    assert [(r["interface"], r["route"], r["stream"], r["status"]) for r in found] == [
        ("grpc", "img", False, "ok"),
        ("grpc", "img", True, "ok"),
    ]


def test_anthropic_and_mcp_chat_on_an_image_route(img):
    """Over HTTP the links point at the origin the caller used, MCP's /mcp included."""
    message = anthropic_client(img).messages.create(
        model="img", max_tokens=50, messages=[{"role": "user", "content": "a fox"}]
    )
    assert message.model == "img"
    (link,) = LINK.findall(message.content[0].text)
    assert link.startswith(img.base_url) and fetch(img, link)[0] == 200

    async def via_mcp() -> str:
        async with http_client(mcp_url(img), img.admin_key) as client:
            result = await client.call_tool("chat", {"model": "img", "prompt": "a cat"})
        assert not result.is_error, result
        return result.content[0].text

    (link,) = LINK.findall(asyncio.run(via_mcp()))
    assert link.startswith(img.base_url) and fetch(img, link)[0] == 200
    found = records(img, 2)
    assert [(r["interface"], r["route"]) for r in found] == [("anthropic", "img"), ("mcp", "img")]


def test_image_calls_spend_the_keys_rpm_on_every_interface(img, chat):
    key = img.create_key("painter", rpm=2)
    openai_client(img, key).images.generate(model="img", prompt="x", size="48x32")
    chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(model="img", messages=[user("y")]),
        metadata=grpc_auth(key),
        timeout=20,
    )
    with pytest.raises(grpc.RpcError) as caught:
        chat.CreateChatCompletion(
            chat_pb2.CreateChatCompletionRequest(model="img", messages=[user("z")]),
            metadata=grpc_auth(key),
            timeout=20,
        )
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "Rate limit of 2 requests per minute" in caught.value.details()
    assert len(img.extra["comfy"].prompts) == 2

"""The MCP `generate_image` tool over streamable HTTP, against the fake ComfyUI."""

from __future__ import annotations

import asyncio
import base64

import mcp_types as types
import orjson
import pytest
from mcp.shared.exceptions import MCPError

from tests.frontends.mcp.test_http import mcp_url, records
from tests.images._client import png_size, wait_until
from tests.images.conftest import comfy_options
from tests.support.fake_comfyui import reference_workflow
from tests.support.mcp_client import http_client


@pytest.fixture
def img_gateway(gateway, fake_comfyui):
    gateway.add_model("img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options())
    gateway.extra["comfy"] = fake_comfyui
    return gateway


async def test_listed_only_for_keys_with_an_image_model(img_gateway):
    chat_only = img_gateway.create_key("chat-only", models=["mock"])
    async with http_client(mcp_url(img_gateway), img_gateway.admin_key) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"chat", "list_models", "usage", "generate_image"}
    tool = tools["generate_image"]
    assert tool.input_schema["required"] == ["prompt"]
    assert {"model", "size", "n", "seed", "steps", "negative_prompt"} <= set(
        tool.input_schema["properties"]
    )
    assert tool.output_schema["required"] == ["model", "job_id", "duration_ms", "images"]
    async with http_client(mcp_url(img_gateway), chat_only) as client:
        assert "generate_image" not in {t.name for t in (await client.list_tools()).tools}
        with pytest.raises(MCPError) as info:
            await client.call_tool("generate_image", {"prompt": "a cat"})
    assert info.value.code == types.INVALID_PARAMS
    assert "Unknown tool 'generate_image'" in info.value.message
    assert img_gateway.extra["comfy"].prompts == []


async def test_list_models_tells_image_models_from_chat_models(img_gateway):
    """Every kind fits the tool's output schema (the client validates it): an embedding
    route such as the built-in `mock-embed` once made the whole listing fail."""
    async with http_client(mcp_url(img_gateway), img_gateway.admin_key) as client:
        result = await client.call_tool("list_models", {})
    kinds = {m["name"]: m["kind"] for m in result.structured_content["models"]}
    assert kinds["img"] == "image"
    assert kinds["mock"] == "chat"
    assert kinds["mock-embed"] == "embedding"


async def test_generates_image_content_with_progress(img_gateway):
    comfy = img_gateway.extra["comfy"]
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with http_client(mcp_url(img_gateway), img_gateway.admin_key) as client:
        result = await client.call_tool(
            "generate_image",
            {"prompt": "a lighthouse", "size": "48x32", "seed": 5, "steps": 3},
            progress_callback=on_progress,
        )
    assert not result.is_error, result.content[0].text
    text, image = result.content
    assert image.type == "image" and image.mime_type == "image/png"
    data = base64.b64decode(image.data)
    assert png_size(data) == (48, 32)
    structured = result.structured_content
    assert structured["model"] == "img" and structured["job_id"].startswith("job_")
    assert structured["duration_ms"] > 0
    (file,) = structured["images"]
    assert file["content_type"] == "image/png" and file["bytes"] == len(data)
    assert file["url"] == f"/v1/files/{file['file_id']}/content"
    assert "Generated 1 image with model 'img'" in text.text and file["url"] in text.text
    assert comfy.prompts[-1]["prompt"]["6"]["inputs"]["text"] == "a lighthouse"

    messages = [message for _, _, message in seen]
    assert messages[0].startswith("Queued")
    assert "Running node 5 of 7: KSampler." in messages
    assert [m for m in messages if m.startswith("Step")] == [f"Step {k} of 3." for k in (1, 2, 3)]
    assert seen[-1] == (len(seen), len(seen), "images ready")
    values = [progress for progress, _, _ in seen]
    assert values == sorted(set(values))  # MCP requires progress to increase

    (record,) = await records(img_gateway, 1)
    assert (record["interface"], record["route"], record["status"]) == ("mcp", "img", "ok")
    assert orjson.loads(record["extra"])["images"] == 1


async def test_model_is_needed_only_when_the_key_has_several(img_gateway):
    comfy = img_gateway.extra["comfy"]
    async with http_client(mcp_url(img_gateway), img_gateway.admin_key) as client:
        single = await client.call_tool("generate_image", {"prompt": "x", "n": 2})
        img_gateway.add_model("img2", "comfyui", base_url=comfy.base_url, options=comfy_options())
        ambiguous = await client.call_tool("generate_image", {"prompt": "x"})
        chosen = await client.call_tool("generate_image", {"prompt": "x", "model": "img2"})
    assert not single.is_error and len(single.content) == 3  # the text and two images
    assert ambiguous.is_error
    assert ambiguous.content[0].text == (
        "'model' is required: this key may use several image models (img, img2)."
    )
    assert not chosen.is_error and chosen.structured_content["model"] == "img2"


async def test_errors_are_tool_results_with_clear_messages(img_gateway):
    comfy = img_gateway.extra["comfy"]
    options = comfy_options(reference_workflow("invalid_bad_value.json"))
    img_gateway.add_model("bad", "comfyui", base_url=comfy.base_url, options=options)
    async with http_client(mcp_url(img_gateway), img_gateway.admin_key) as client:
        node = await client.call_tool("generate_image", {"model": "bad", "prompt": "x"})
        size = await client.call_tool(
            "generate_image", {"model": "img", "prompt": "x", "size": "9"}
        )
        typo = await client.call_tool("generate_image", {"model": "img", "promt": "x"})
        chat_model = await client.call_tool("generate_image", {"model": "mock", "prompt": "x"})
    assert node.is_error
    assert "ComfyUI rejected the workflow of model 'bad'" in node.content[0].text
    assert "node 1 (EmptyImage)" in node.content[0].text
    assert node.structured_content["error"]["code"] == "workflow_invalid"
    assert size.is_error and "'size' must look like 1024x1024" in size.content[0].text
    assert typo.is_error and "promt" in typo.content[0].text
    assert chat_model.is_error and "does not generate images" in chat_model.content[0].text
    for failed in (node, size, typo, chat_model):
        assert "Traceback" not in failed.content[0].text
    (record,) = await records(img_gateway, 1)  # the workflow ComfyUI refused
    assert (record["interface"], record["route"], record["error_code"]) == (
        "mcp",
        "bad",
        "workflow_invalid",
    )


async def test_cancelled_call_interrupts_the_generation(img_gateway):
    comfy = img_gateway.extra["comfy"]
    comfy.step_delay = 0.02
    async with http_client(mcp_url(img_gateway), img_gateway.admin_key) as client:
        with pytest.raises(MCPError):
            await client.call_tool(
                "generate_image", {"prompt": "slow", "steps": 500}, read_timeout_seconds=0.5
            )
    prompt_id = comfy.prompts[-1]["prompt_id"]
    await asyncio.to_thread(
        wait_until, lambda: comfy.interrupts == [prompt_id], 10, "the interrupt"
    )
    (record,) = await records(img_gateway, 1)
    assert (record["interface"], record["status"]) == ("mcp", "cancelled")

"""POST /v1/images/generations on ComfyUI routes, through the official openai SDK."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import openai
import orjson
import pytest

from tests.images._client import http, png_size, sdk
from tests.images.conftest import comfy_options
from tests.support.fake_comfyui import png_bytes, reference_workflow


def test_url_result_is_served_by_lowart_with_bindings_applied(img_gateway, comfy):
    reply = sdk(img_gateway).images.generate(
        model="img", prompt="a red fox", size="48x32", extra_body={"seed": 7, "steps": 3}
    )
    assert len(reply.data) == 1
    url = reply.data[0].url
    assert url.startswith(img_gateway.base_url + "/v1/files/file-")
    assert str(comfy.port) not in url
    with http(img_gateway) as client:
        response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert png_size(response.content) == (48, 32)
    sent = comfy.prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox"
    assert (sent["5"]["inputs"]["width"], sent["5"]["inputs"]["height"]) == (48, 32)
    assert sent["3"]["inputs"]["seed"] == 7 and sent["3"]["inputs"]["steps"] == 3
    assert comfy.prompts[-1]["client_id"].startswith("lowart-")
    record = img_gateway.wait_for_records(1)[-1]
    assert record["route"] == "img" and record["vendor"] == "comfyui"
    assert record["status"] == "ok" and record["interface"] == "http"
    assert (record["prompt_tokens"], record["completion_tokens"]) == (0, 0)
    extra = orjson.loads(record["extra"])
    assert extra["images"] == 1 and extra["duration_ms"] > 0 and extra["async"] is False


def test_b64_json_with_n_fills_the_batch(img_gateway, comfy):
    reply = sdk(img_gateway).images.generate(
        model="img", prompt="two cats", n=2, response_format="b64_json"
    )
    images = [base64.b64decode(item.b64_json) for item in reply.data]
    assert len(images) == 2
    assert all(png_size(image) == (64, 64) for image in images)
    assert comfy.prompts[-1]["prompt"]["5"]["inputs"]["batch_size"] == 2


def test_seed_is_fresh_per_request_unless_given(img_gateway, comfy):
    client = sdk(img_gateway)
    client.images.generate(model="img", prompt="x")
    client.images.generate(model="img", prompt="x")
    seeds = [p["prompt"]["3"]["inputs"]["seed"] for p in comfy.prompts[-2:]]
    assert seeds[0] != seeds[1]


def test_file_needs_auth_and_is_refused_to_another_key(img_gateway):
    url = sdk(img_gateway).images.generate(model="img", prompt="mine").data[0].url
    other = img_gateway.create_key("other")
    with http(img_gateway, other) as client:
        refused = client.get(url)
        missing = client.get("/v1/files/file-000000000000000000000000/content")
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    with http(img_gateway, "la-not-a-key") as client:
        assert client.get(url).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "img"}, "'prompt' is required"),
        ({"model": "img", "prompt": "x", "size": "big"}, "'size' must look like"),
        ({"model": "img", "prompt": "x", "response_format": "gif"}, "'response_format'"),
        ({"model": "img", "prompt": "x", "n": 0}, "'n' must be an integer"),
        ({"model": "mock", "prompt": "x"}, "does not generate images"),
        ({"model": "nope", "prompt": "x"}, "does not exist"),
    ],
)
def test_bad_requests_get_clear_errors(img_gateway, body, message):
    with http(img_gateway) as client:
        response = client.post("/v1/images/generations", json=body)
    assert response.status_code in (400, 404)
    assert message in response.json()["error"]["message"]


def test_values_the_workflow_cannot_take_are_refused(gateway, comfy):
    options = comfy_options(reference_workflow("empty_save.json"))
    gateway.add_model("plain", "comfyui", base_url=comfy.base_url, options=options)
    client = sdk(gateway)
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.images.generate(model="plain", prompt="x", size="64x64")
    assert "no 'width/height' binding" in excinfo.value.message
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.images.generate(model="plain", prompt="x", n=3)
    assert "no 'batch_size' binding" in excinfo.value.message
    records = gateway.wait_for_records(2)
    assert [r["status"] for r in records] == ["error", "error"], [
        (r["request_id"], r["route"], r["error_code"], r["created_at"]) for r in records
    ]
    assert comfy.prompts == []


def test_node_errors_from_comfyui_become_a_clear_400(gateway, comfy):
    options = comfy_options(reference_workflow("invalid_bad_value.json"))
    gateway.add_model("bad", "comfyui", base_url=comfy.base_url, options=options)
    with pytest.raises(openai.BadRequestError) as excinfo:
        sdk(gateway).images.generate(model="bad", prompt="x")
    message = excinfo.value.message
    assert "ComfyUI rejected the workflow of model 'bad'" in message
    assert "node 1 (EmptyImage)" in message
    assert "Value 99999 bigger than max of 16384" in message
    assert str(comfy.port) not in message
    assert excinfo.value.code == "workflow_invalid"
    record = gateway.wait_for_records(1)[-1]
    assert record["status"] == "error" and record["error_code"] == "workflow_invalid"


def test_runtime_error_names_the_failing_node(gateway, comfy):
    options = comfy_options(reference_workflow("runtime_error_alloc.json"))
    gateway.add_model("boom", "comfyui", base_url=comfy.base_url, options=options)
    with pytest.raises(openai.APIStatusError) as excinfo:
        sdk(gateway).images.generate(model="boom", prompt="x")
    assert excinfo.value.status_code == 502
    assert "node 1 (EmptyImage)" in excinfo.value.message
    assert "RuntimeError" in excinfo.value.message
    with http(gateway) as client:
        job = client.get("/v1/jobs").json()["data"][0]
    assert job["status"] == "failed" and job["error"]["code"] == "execution_error"


def test_cached_rerun_returns_the_same_image(gateway, comfy):
    gateway.add_model(
        "still",
        "comfyui",
        base_url=comfy.base_url,
        options=comfy_options(reference_workflow("empty_invert_save.json")),
    )
    client = sdk(gateway)
    first = client.images.generate(model="still", prompt="x", response_format="b64_json")
    files_after_first = len(comfy.files)
    second = client.images.generate(model="still", prompt="x", response_format="b64_json")
    assert len(first.data) == 2  # the template's batch_size, files in a subfolder
    assert [d.b64_json for d in first.data] == [d.b64_json for d in second.data]
    assert len(comfy.files) == files_after_first  # served from ComfyUI's cache
    assert png_size(base64.b64decode(first.data[0].b64_json)) == (64, 48)


def test_preview_only_workflow_returns_temp_images(gateway, comfy):
    gateway.add_model(
        "preview",
        "comfyui",
        base_url=comfy.base_url,
        options=comfy_options(reference_workflow("empty_preview.json")),
    )
    reply = sdk(gateway).images.generate(model="preview", prompt="x", response_format="b64_json")
    assert png_size(base64.b64decode(reply.data[0].b64_json)) == (32, 32)


def test_api_prefixed_comfyui_base_url_is_not_needed_but_works(gateway, comfy):
    """ComfyUI serves every route under /api/ too; a base URL ending in /api works."""
    gateway.add_model(
        "viaapi",
        "comfyui",
        base_url=comfy.base_url + "/api",
        options=comfy_options(reference_workflow("empty_save.json")),
    )
    reply = sdk(gateway).images.generate(model="viaapi", prompt="x", response_format="b64_json")
    assert png_size(base64.b64decode(reply.data[0].b64_json)) == (64, 64)


def _load_image_gateway(gateway, comfy):
    options = comfy_options(reference_workflow("load_invert_save.json"))
    options["bindings"] = {"image": "1.inputs.image"}
    gateway.add_model("invert", "comfyui", base_url=comfy.base_url, options=options)


def test_edits_upload_the_input_image_to_comfyui(gateway, comfy):
    _load_image_gateway(gateway, comfy)
    source = png_bytes(20, 10, (1, 2, 3))
    reply = sdk(gateway).images.edit(
        model="invert",
        image=("in.png", source, "image/png"),
        prompt="invert it",
        response_format="b64_json",
    )
    result = base64.b64decode(reply.data[0].b64_json)
    assert png_size(result) == (20, 10)  # the workflow really started from our upload
    name = comfy.prompts[-1]["prompt"]["1"]["inputs"]["image"]
    assert name.startswith("lowart_") and comfy.files[("input", "", name)] == source


def test_chat_with_a_data_url_image_uses_it_as_input(gateway, comfy):
    _load_image_gateway(gateway, comfy)
    source = png_bytes(12, 8, (9, 9, 9))
    url = "data:image/png;base64," + base64.b64encode(source).decode()
    reply = sdk(gateway).chat.completions.create(
        model="invert",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "invert"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    assert "![image 1](" in reply.choices[0].message.content
    name = comfy.prompts[-1]["prompt"]["1"]["inputs"]["image"]
    assert comfy.files[("input", "", name)] == source
    with pytest.raises(openai.BadRequestError) as excinfo:
        sdk(gateway).chat.completions.create(
            model="invert",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "invert"},
                        {"type": "image_url", "image_url": {"url": "http://example.com/a.png"}},
                    ],
                }
            ],
        )
    assert "data: URLs" in excinfo.value.message


def test_input_image_needs_an_image_binding(img_gateway):
    with pytest.raises(openai.BadRequestError) as excinfo:
        sdk(img_gateway).images.edit(
            model="img", image=("in.png", png_bytes(4, 4, (0, 0, 0)), "image/png"), prompt="x"
        )
    assert "no 'image' binding" in excinfo.value.message


def test_websocket_is_connected_before_the_prompt_is_submitted(img_gateway, comfy):
    sdk(img_gateway).images.generate(model="img", prompt="x")
    client_id = comfy.prompts[-1]["client_id"]
    assert comfy.log.index(("ws", client_id)) < comfy.log.index(("prompt", client_id))


def test_concurrent_generations_each_get_their_own_result(img_gateway, comfy):
    client = sdk(img_gateway)
    sizes = [(16 + 8 * i, 16) for i in range(6)]

    def one(size: tuple[int, int]) -> tuple[int, int]:
        reply = client.images.generate(
            model="img", prompt="x", size=f"{size[0]}x{size[1]}", response_format="b64_json"
        )
        return png_size(base64.b64decode(reply.data[0].b64_json))

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(one, sizes)) == sizes
    assert len({p["client_id"] for p in comfy.prompts}) == 6
    records = img_gateway.wait_for_records(6)
    assert len(records) == 6 and {r["status"] for r in records} == {"ok"}


def test_images_cost_their_price_and_are_charged_to_the_budget(img_gateway, comfy):
    status, body = img_gateway.admin_call(
        "PATCH", "/admin/models/img", {"price_image": "0.04", "currency": "EUR"}
    )
    assert status == 200 and body["price"]["image"] == "0.04", body
    img_gateway.run(img_gateway.runtime.reload())
    key = img_gateway.create_key("painter", budget="0.10", budget_period="month")
    sdk(img_gateway, key).images.generate(
        model="img", prompt="two cats", n=2, response_format="b64_json"
    )
    record = img_gateway.wait_for_records(1)[-1]
    assert (record["cost"], record["currency"]) == (Decimal("0.08"), "EUR")
    with pytest.raises(openai.RateLimitError) as refused:  # 0.08 + 2 x 0.04 > 0.10
        sdk(img_gateway, key).images.generate(model="img", prompt="more", n=2)
    assert refused.value.status_code == 429 and refused.value.body["code"] == "insufficient_quota"
    assert len(img_gateway.wait_for_records(1)) == 1  # refused before any job

"""Chat completions on a ComfyUI route: the last user message is the prompt."""

from __future__ import annotations

import re

import openai
import orjson

from tests.images._client import http, png_size, sdk, wait_until
from tests.images.conftest import comfy_options
from tests.support.fake_comfyui import reference_workflow

_LINK = re.compile(r"!\[image \d+\]\((http://[^)]+/v1/files/file-[0-9a-f]+/content)\)")


def test_chat_answers_with_markdown_image_links(img_gateway, comfy):
    reply = sdk(img_gateway).chat.completions.create(
        model="img",
        messages=[
            {"role": "user", "content": "an old prompt"},
            {"role": "assistant", "content": "..."},
            {"role": "user", "content": "a lighthouse at dusk"},
        ],
    )
    assert reply.model == "img"
    content = reply.choices[0].message.content
    links = _LINK.findall(content)
    assert len(links) == 1
    with http(img_gateway) as client:
        image = client.get(links[0])
    assert image.status_code == 200 and png_size(image.content) == (64, 64)
    assert comfy.prompts[-1]["prompt"]["6"]["inputs"]["text"] == "a lighthouse at dusk"
    assert reply.usage.total_tokens == 0


def test_chat_stream_sends_progress_then_the_images(img_gateway, comfy):
    chunks = list(
        sdk(img_gateway).chat.completions.create(
            model="img",
            messages=[{"role": "user", "content": "a dragon"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    progress, final = texts[:-1], texts[-1]
    assert progress[0].startswith("Queued")
    nodes = [t for t in progress if t.startswith("Running node")]
    assert nodes[0] == "Running node 1 of 7: CheckpointLoaderSimple.\n"
    assert "Running node 5 of 7: KSampler.\n" in nodes
    steps = [t for t in progress if t.startswith("Step")]
    assert steps == [f"Step {k} of 4.\n" for k in range(1, 5)]
    assert progress.index(steps[0]) > progress.index("Running node 5 of 7: KSampler.\n")
    assert len(_LINK.findall(final)) == 1
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 0
    record = img_gateway.wait_for_records(1)[-1]
    assert record["stream"] is True and record["status"] == "ok"
    assert orjson.loads(record["extra"])["images"] == 1


def test_chat_stream_failure_arrives_in_band(gateway, comfy):
    options = comfy_options(reference_workflow("runtime_error_alloc.json"))
    gateway.add_model("boom", "comfyui", base_url=comfy.base_url, options=options)
    stream = sdk(gateway).chat.completions.create(
        model="boom", messages=[{"role": "user", "content": "x"}], stream=True
    )
    try:
        for _ in stream:
            pass
    except openai.APIError as exc:
        assert "node 1 (EmptyImage)" in exc.message
    else:
        raise AssertionError("the stream should have carried the node error")


def test_chat_async_returns_a_job(img_gateway):
    with http(img_gateway) as client:
        response = client.post(
            "/v1/chat/completions",
            json={"model": "img", "messages": [{"role": "user", "content": "x"}], "async": True},
        )
    job = response.json()
    assert response.status_code == 200
    assert job["object"] == "image.job" and job["id"].startswith("job_")
    assert job["status"] in ("queued", "running", "succeeded")


def test_chat_without_user_text_is_refused(img_gateway):
    try:
        sdk(img_gateway).chat.completions.create(
            model="img", messages=[{"role": "system", "content": "be nice"}]
        )
    except openai.BadRequestError as exc:
        assert "user message" in exc.message
    else:
        raise AssertionError("expected a 400")


def test_client_leaving_a_stream_interrupts_the_prompt(img_gateway, comfy):
    comfy.step_delay = 0.02
    stream = sdk(img_gateway).chat.completions.create(
        model="img",
        messages=[{"role": "user", "content": "a long one"}],
        stream=True,
        extra_body={"steps": 500},
    )
    for chunk in stream:
        if chunk.choices and (chunk.choices[0].delta.content or "").startswith("Step 2 "):
            break
    stream.close()
    prompt_id = comfy.prompts[-1]["prompt_id"]
    wait_until(lambda: comfy.interrupts == [prompt_id], what="the interrupt")
    wait_until(lambda: prompt_id in comfy.history, what="ComfyUI to stop")
    records = img_gateway.wait_for_records(1)
    assert [r["status"] for r in records] == ["cancelled"]
    with http(img_gateway) as client:
        assert client.get("/v1/jobs").json()["data"][0]["status"] == "cancelled"


def test_unreachable_comfyui_is_a_502_and_a_failed_job(gateway):
    gateway.add_model("gone", "comfyui", base_url="http://127.0.0.1:9", options=comfy_options())
    try:
        sdk(gateway).images.generate(model="gone", prompt="x")
    except openai.APIStatusError as exc:
        assert exc.status_code == 502 and "unreachable" in exc.message
        assert "127.0.0.1:9" not in exc.message
    else:
        raise AssertionError("expected a 502")
    record = gateway.wait_for_records(1)[-1]
    assert record["status"] == "error" and record["error_code"] == "upstream_unavailable"

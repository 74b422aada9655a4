"""Image routes are routed like any call: deployments, fallbacks, breakers, one usage record."""

from __future__ import annotations

import base64

import openai
import orjson
import pytest

from tests.images._client import http, png_size, sdk
from tests.images.conftest import comfy_options
from tests.support.fake_openai import closed_port

FAST = {"retries": 0, "connect_timeout": 1}


def _unreachable() -> str:
    return f"http://127.0.0.1:{closed_port()}"


def _fallback(gateway, model: str, to: str) -> None:
    gateway.run(gateway.runtime.admin.routing.add_fallback(model, to))


def test_an_unreachable_comfyui_falls_back_to_the_next_image_model(gateway, comfy):
    gateway.add_model("down", "comfyui", base_url=_unreachable(), options=comfy_options(**FAST))
    gateway.add_model("up", "comfyui", base_url=comfy.base_url, options=comfy_options())
    _fallback(gateway, "down", "up")

    reply = sdk(gateway).images.generate(
        model="down", prompt="a lighthouse", size="40x24", response_format="b64_json"
    )

    assert png_size(base64.b64decode(reply.data[0].b64_json)) == (40, 24)
    assert len(comfy.prompts) == 1  # the one that took it
    records = gateway.wait_for_records(1)
    assert len(records) == 1  # one generation, one record, however many attempts
    record = records[0]
    extra = orjson.loads(record["extra"])
    assert record["status"] == "ok" and record["route"] == "up"
    assert extra["kind"] == "image_generation"
    assert extra["requested_model"] == "down"
    assert extra["fallbacks"] == ["up"]
    assert [a["route"] for a in extra["trail"]] == ["down", "up"]
    with http(gateway) as client:
        job = client.get("/v1/jobs").json()["data"][0]
    assert job["model"] == "up" and job["status"] == "succeeded"


def test_a_sibling_deployment_takes_the_job(gateway, comfy):
    gateway.add_model("pics", "comfyui", base_url=_unreachable(), options=comfy_options(**FAST))
    gateway.add_model("pics", "comfyui", base_url=comfy.base_url, options=comfy_options(**FAST))
    for _ in range(3):  # whichever deployment the plan tries first, the live one answers
        reply = sdk(gateway).images.generate(
            model="pics", prompt="x", size="16x16", response_format="b64_json"
        )
        assert png_size(base64.b64decode(reply.data[0].b64_json)) == (16, 16)
    assert len(comfy.prompts) == 3
    assert [r["status"] for r in gateway.wait_for_records(3)] == ["ok", "ok", "ok"]


def test_when_no_deployment_takes_it_the_job_fails_once(gateway):
    gateway.add_model("gone", "comfyui", base_url=_unreachable(), options=comfy_options(**FAST))
    with pytest.raises(openai.APIStatusError) as caught:
        sdk(gateway).images.generate(model="gone", prompt="x")
    assert caught.value.status_code == 502
    assert "unreachable" in caught.value.message
    records = gateway.wait_for_records(1)
    assert len(records) == 1 and records[0]["status"] == "error"
    with http(gateway) as client:
        jobs = client.get("/v1/jobs").json()["data"]
    assert [j["status"] for j in jobs] == ["failed"]


def test_an_open_circuit_skips_a_broken_image_deployment(gateway, comfy):
    breaker = {**FAST, "breaker_min_calls": 1, "breaker_failure_ratio": 0.5}
    gateway.add_model("flaky", "comfyui", base_url=_unreachable(), options=comfy_options(**breaker))
    gateway.add_model("spare", "comfyui", base_url=comfy.base_url, options=comfy_options())
    _fallback(gateway, "flaky", "spare")
    for _ in range(2):
        sdk(gateway).images.generate(model="flaky", prompt="x", size="16x16")
    extras = [orjson.loads(r["extra"]) for r in gateway.wait_for_records(2)]
    first, second = ([a["route"] for a in e["trail"]] for e in extras)
    assert first == ["flaky", "spare"]  # tried, failed (the circuit opens), fell back
    assert second == ["spare"]  # while open, flaky is not even tried
    assert extras[1]["requested_model"] == "flaky"
    states = gateway.run(gateway.runtime.admin.list_models())
    assert next(m["circuit"] for m in states if m["name"] == "flaky") == "open"

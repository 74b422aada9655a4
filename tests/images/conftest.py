"""An image model (`img`) on a live gateway, backed by the fake ComfyUI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fake_comfyui import txt2img_workflow

TXT2IMG_BINDINGS = {
    "prompt": "6.inputs.text",
    "negative_prompt": "7.inputs.text",
    "seed": "3.inputs.seed",
    "steps": "3.inputs.steps",
    "width": "5.inputs.width",
    "height": "5.inputs.height",
    "batch_size": "5.inputs.batch_size",
}


def comfy_options(workflow: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "workflow": workflow or txt2img_workflow(),
        "bindings": TXT2IMG_BINDINGS if workflow is None else {},
        "poll_interval": 0.05,
        "timeout": 20,
        **extra,
    }


@pytest.fixture
def comfy(fake_comfyui):
    return fake_comfyui


@pytest.fixture
def img_gateway(gateway, comfy):
    gateway.add_model("img", "comfyui", base_url=comfy.base_url, options=comfy_options())
    return gateway

"""Adding ComfyUI routes: the CLI's --workflow/--bind and the admin API validate alike."""

from __future__ import annotations

import json

import pytest

from lowart.cli import main
from tests.images._client import http, png_size, sdk, wait_until
from tests.support.fake_comfyui import txt2img_workflow


@pytest.fixture
def cli(gateway, tmp_path, monkeypatch):
    monkeypatch.setenv("LOWART_SECRET_KEY", "test-secret")
    db = gateway.runtime.settings.database_url
    workflow = tmp_path / "txt2img.json"
    workflow.write_text(json.dumps(txt2img_workflow()))

    def run(*args: str) -> int:
        return main([*args, "--db", db])

    run.workflow = str(workflow)  # type: ignore[attr-defined]
    return run


def test_cli_model_with_workflow_and_bindings_serves_images(gateway, comfy, cli, capsys):
    code = cli(
        "models",
        "add",
        "pics",
        "--vendor",
        "comfyui",
        "--base-url",
        comfy.base_url,
        "--workflow",
        cli.workflow,
        "--bind",
        "prompt=6.inputs.text",
        "--bind",
        "width=5.inputs.width",
        "--bind",
        "height=5.inputs.height",
        "--bind",
        "seed=3.inputs.seed",
    )
    assert code == 0, capsys.readouterr().err
    # the running gateway notices the CLI's change by itself
    wait_until(lambda: "pics" in {r.name for r in gateway.runtime.models.routes()}, what="reload")
    reply = sdk(gateway).images.generate(model="pics", prompt="from the cli", size="40x24")
    with http(gateway) as client:
        assert png_size(client.get(reply.data[0].url).content) == (40, 24)
    assert comfy.prompts[-1]["prompt"]["6"]["inputs"]["text"] == "from the cli"


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("prompt=99.inputs.text", "the workflow has no node '99'"),
        ("prompt=6.inputs.txt", "node '6' (CLIPTextEncode) has no input 'txt'"),
        ("prompt=6.text", "must look like NODE.inputs.INPUT"),
        ("prompt=6.inputs.clip", "is a link to another node"),
        ("colour=6.inputs.text", "Unknown binding 'colour'"),
        ("prompt", "--bind expects NAME=NODE.inputs.INPUT"),
    ],
)
def test_cli_refuses_bindings_that_point_nowhere(cli, capsys, bind, message):
    code = cli(
        "models", "add", "bad", "--vendor", "comfyui", "--workflow", cli.workflow, "--bind", bind
    )
    assert code == 1
    assert message in capsys.readouterr().err


def test_cli_refuses_a_ui_format_workflow(cli, capsys, tmp_path):
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}))
    assert cli("models", "add", "ui", "--vendor", "comfyui", "--workflow", str(ui)) == 1
    assert "not the API format" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    assert cli("models", "add", "ui", "--vendor", "comfyui", "--workflow", str(broken)) == 1
    assert "is not valid JSON" in capsys.readouterr().err
    assert cli("models", "add", "ui", "--vendor", "comfyui") == 1
    assert "needs a workflow" in capsys.readouterr().err


def test_admin_api_validates_the_same_way(gateway, comfy):
    with http(gateway) as client:
        missing = client.post("/admin/models", json={"name": "x", "vendor": "comfyui"})
        bad = client.post(
            "/admin/models",
            json={
                "name": "x",
                "vendor": "comfyui",
                "options": {
                    "workflow": txt2img_workflow(),
                    "bindings": {"seed": "3.inputs.noise_seed"},
                },
            },
        )
        good = client.post(
            "/admin/models",
            json={
                "name": "x",
                "vendor": "comfyui",
                "base_url": comfy.base_url,
                "options": {"workflow": txt2img_workflow(), "bindings": {"seed": "3.inputs.seed"}},
            },
        )
        patch_bad = client.request(
            "PATCH", "/admin/models/x", {"options": {"bindings": {"steps": "3.inputs.nope"}}}
        )
    assert missing.status_code == 400 and "needs a workflow" in missing.json()["error"]["message"]
    assert bad.status_code == 400
    assert "node '3' (KSampler) has no input 'noise_seed'" in bad.json()["error"]["message"]
    assert good.status_code == 201
    assert good.json()["options"]["bindings"] == {"seed": ["3.inputs.seed"]}
    assert patch_bad.status_code == 400
    assert "has no input 'nope'" in patch_bad.json()["error"]["message"]

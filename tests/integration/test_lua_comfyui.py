"""Lua transforms (issue 6) on a ComfyUI image route (issue 5): the request script sees
and rewrites the /prompt submission (the workflow graph), the format that route's
scripts are dry-run against at upload."""

from __future__ import annotations

import openai
import pytest

from tests.images.conftest import comfy_options
from tests.integration.conftest import openai_client, records, set_script

WORKFLOW_SCRIPT = """
function request(p, ctx)
  local text = p.prompt["6"].inputs
  text.text = text.text .. ", watercolor (" .. ctx.interface .. ")"
  p.prompt["3"].inputs.steps = math.min(p.prompt["3"].inputs.steps, 4)
  return p
end
"""


@pytest.fixture
def img(gateway, fake_comfyui):
    gateway.add_model("img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options())
    gateway.extra["comfy"] = fake_comfyui
    return gateway


def test_a_workflow_script_is_accepted_and_rewrites_the_submission(img):
    set_script(img, "img", WORKFLOW_SCRIPT)
    reply = openai_client(img).images.generate(
        model="img", prompt="a red fox", size="48x32", extra_body={"steps": 30}
    )
    assert len(reply.data) == 1
    sent = img.extra["comfy"].prompts[-1]["prompt"]
    assert sent["6"]["inputs"]["text"] == "a red fox, watercolor (http)"
    assert sent["3"]["inputs"]["steps"] == 4
    (record,) = records(img, 1)
    assert record["route"] == "img" and record["status"] == "ok"


def test_a_chat_shaped_script_is_refused_on_an_image_route(img):
    status, body = img.admin_call(
        "PATCH",
        "/admin/models/img",
        {"script": "function request(p) p.messages[1].content = 'x' return p end"},
    )
    assert status == 400 and body["error"]["code"] == "invalid_script"
    assert "request: script:1:" in body["error"]["message"]
    # and the route still generates
    assert openai_client(img).images.generate(model="img", prompt="x", size="48x32").data


def test_a_failing_workflow_script_fails_the_generation(img):
    set_script(
        img,
        "img",
        "function request(p)\n"
        "  if p.prompt['6'].inputs.text == 'forbidden' then error('not this one') end\n"
        "  return p\n"
        "end",
    )
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client(img).images.generate(model="img", prompt="forbidden", size="48x32")
    assert caught.value.status_code == 502
    assert "model 'img'" in caught.value.message and "not this one" in caught.value.message
    (record,) = records(img, 1)
    assert record["error_code"] == "transform_failed"

"""Async image jobs: submit, poll, list, cancel, and survive restarts of either side."""

from __future__ import annotations

import time

import orjson

from tests.images._client import HttpClient, http, png_size, wait_for_job, wait_until
from tests.images.conftest import comfy_options
from tests.support.servers import start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_in


def _submit(client, **body) -> dict:
    response = client.post("/v1/jobs", json={"model": "img", "prompt": "a job", **body})
    assert response.status_code == 202, response.content
    return response.json()


def _held_running_job(gateway, comfy, client) -> dict:
    """A job ComfyUI has started but holds before its first node (comfy is paused)."""
    comfy.pause()
    job = _submit(client)
    wait_until(lambda: comfy.running_prompt_id, what="ComfyUI to start the prompt")
    return wait_for_job(client, job["id"], "running")


def test_async_job_runs_to_completion_with_outputs(img_gateway, comfy):
    with http(img_gateway) as client:
        response = client.post(
            "/v1/images/generations", json={"model": "img", "prompt": "later", "async": True}
        )
        assert response.status_code == 202
        job = response.json()
        assert job["status"] in ("queued", "running", "succeeded") and job["outputs"] == []
        done = wait_for_job(client, job["id"], "succeeded")
        assert done["error"] is None and done["progress"] is None
        assert done["finished_at"] >= done["created_at"]
        [output] = done["outputs"]
        image = client.get(output["url"])
        assert image.status_code == 200 and png_size(image.content) == (64, 64)
        assert output["bytes"] == len(image.content)
        listed = client.get("/v1/jobs").json()["data"]
        assert [j["id"] for j in listed] == [job["id"]]
    record = img_gateway.wait_for_records(1)[-1]
    assert orjson.loads(record["extra"])["async"] is True


def test_running_job_reports_progress(img_gateway, comfy):
    with http(img_gateway) as client:
        job = _held_running_job(img_gateway, comfy, client)
        assert job["progress"]["state"] == "running"
        comfy.resume()
        done = wait_for_job(client, job["id"], "succeeded")
        assert len(done["outputs"]) == 1


def test_cancel_interrupts_a_running_prompt(img_gateway, comfy):
    with http(img_gateway) as client:
        job = _held_running_job(img_gateway, comfy, client)
        cancelled = client.post(f"/v1/jobs/{job['id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        prompt_id = comfy.prompts[-1]["prompt_id"]
        assert comfy.interrupts == [prompt_id]
        comfy.resume()
        wait_until(lambda: prompt_id in comfy.history, what="ComfyUI to stop the prompt")
        assert comfy.history[prompt_id]["status"]["messages"][-1][0] == "execution_interrupted"
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "cancelled"
        again = client.post(f"/v1/jobs/{job['id']}/cancel").json()
        assert again["status"] == "cancelled"
    records = img_gateway.wait_for_records(1)
    assert [r["status"] for r in records] == ["cancelled"]


def test_cancel_wins_when_comfyui_reports_the_interrupt_first(img_gateway, comfy):
    """ComfyUI's `execution_interrupted` may reach the watcher before the cancel is
    written; the job is still cancelled, not failed, and recorded once."""
    comfy.control_delay = 0.3  # the interrupt acts at once but answers late
    with http(img_gateway) as client:
        job = _held_running_job(img_gateway, comfy, client)
        cancelled = client.post(f"/v1/jobs/{job['id']}/cancel").json()
        assert cancelled["status"] == "cancelled" and cancelled["error"] is None
        prompt_id = comfy.prompts[-1]["prompt_id"]
        assert comfy.history[prompt_id]["status"]["messages"][-1][0] == "execution_interrupted"
    records = img_gateway.wait_for_records(1)
    assert [r["status"] for r in records] == ["cancelled"]


def test_cancel_dequeues_a_pending_prompt(img_gateway, comfy):
    with http(img_gateway) as client:
        first = _held_running_job(img_gateway, comfy, client)
        second = _submit(client, prompt="behind it")
        assert second["status"] == "queued"
        pending_id = comfy.prompts[-1]["prompt_id"]
        assert client.post(f"/v1/jobs/{second['id']}/cancel").json()["status"] == "cancelled"
        assert comfy.deleted == [pending_id] and comfy.interrupts == []
        comfy.resume()
        assert wait_for_job(client, first["id"], "succeeded")["outputs"]
        assert pending_id not in comfy.history


def test_another_keys_jobs_are_invisible(img_gateway, comfy):
    with http(img_gateway) as client:
        job = _submit(client)
        wait_for_job(client, job["id"], "succeeded")
    other = img_gateway.create_key("other")
    with http(img_gateway, other) as client:
        assert client.get(f"/v1/jobs/{job['id']}").status_code == 404
        assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 404
        assert client.get("/v1/jobs").json()["data"] == []
        assert client.get("/v1/jobs/job_nope").json()["error"]["code"] == "not_found"


def test_socket_drop_falls_back_to_polling(img_gateway, comfy):
    with http(img_gateway) as client:
        job = _held_running_job(img_gateway, comfy, client)
        reads_before = comfy.queue_reads
        img_gateway.run(comfy.drop_sockets())
        # while ComfyUI still holds the prompt, the gateway polls /history and /queue
        wait_until(lambda: comfy.queue_reads > reads_before + 2, what="polling to start")
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "running"
        comfy.resume()
        done = wait_for_job(client, job["id"], "succeeded")
        assert len(done["outputs"]) == 1
    assert len(comfy.ws_connects) == 1


def test_comfyui_restart_loses_the_job_with_a_clear_error(img_gateway, comfy):
    with http(img_gateway) as client:
        job = _held_running_job(img_gateway, comfy, client)
        img_gateway.run(comfy.restart())
        failed = wait_for_job(client, job["id"], "failed")
    assert failed["error"]["code"] == "generation_lost"
    assert "restarted" in failed["error"]["message"]
    record = img_gateway.wait_for_records(1)[-1]
    assert record["status"] == "error" and record["error_code"] == "generation_lost"


def test_generation_timeout_fails_and_frees_comfyui(gateway, comfy):
    options = comfy_options(timeout=0.3)
    gateway.add_model("img", "comfyui", base_url=comfy.base_url, options=options)
    comfy.pause()  # ComfyUI starts the prompt but never gets past its first node
    with http(gateway) as client:
        job = _submit(client)
        failed = wait_for_job(client, job["id"], "failed")
    assert failed["error"]["code"] == "upstream_timeout"
    assert comfy.interrupts == [comfy.prompts[-1]["prompt_id"]]


def test_job_survives_a_gateway_restart(loop_thread, tmp_path, comfy):
    settings = settings_in(tmp_path)
    first = start_gateway(loop_thread, settings)
    first.add_model("img", "comfyui", base_url=comfy.base_url, options=comfy_options())
    key = first.admin_key
    with http(first) as client:
        job = _held_running_job(first, comfy, client)
        started_at = client.get(f"/v1/jobs/{job['id']}").json()["started_at"]
    stop_gateway(first)
    assert comfy.running_prompt_id == comfy.prompts[-1]["prompt_id"]  # ComfyUI kept going
    time.sleep(1.1)  # a resume that rewrote the start would now show a later second
    second = start_gateway(loop_thread, settings, admin_key_name="test-admin-2")
    try:
        # the first gateway gave up its lease when it stopped: the second resumes at once
        wait_until(lambda: len(comfy.ws_connects) == 2, what="the new gateway to reconnect")
        assert comfy.ws_connects[1] == comfy.ws_connects[0]  # same client id: same frames
        with http(second, key) as client:
            assert client.get(f"/v1/jobs/{job['id']}").json()["started_at"] == started_at
        comfy.resume()
        with http(second, key) as client:
            done = wait_for_job(client, job["id"], "succeeded")
            image = client.get(done["outputs"][0]["url"])
        assert image.status_code == 200 and png_size(image.content) == (64, 64)
        records = second.wait_for_records(1)
        assert len(records) == 1 and records[0]["status"] == "ok"
        assert len(comfy.prompts) == 1  # watched again, not resubmitted
    finally:
        stop_gateway(second)


def test_interrupt_by_someone_else_fails_the_job_and_says_so(img_gateway, comfy):
    with http(img_gateway) as client:
        job = _held_running_job(img_gateway, comfy, client)
        # someone pressing "Cancel" in ComfyUI's own UI
        HttpClient(comfy.base_url, key="").post("/interrupt", json={})
        comfy.resume()
        failed = wait_for_job(client, job["id"], "failed")
    assert failed["error"]["code"] == "generation_interrupted"
    assert "interrupted the generation" in failed["error"]["message"]
    assert "at node 4 (CheckpointLoaderSimple)" in failed["error"]["message"]


def test_a_waiting_job_knows_its_place_in_the_queue(img_gateway, comfy):
    with http(img_gateway) as client:
        first = _held_running_job(img_gateway, comfy, client)
        second = _submit(client, prompt="second")
        third = _submit(client, prompt="third")
        progress = [client.get(f"/v1/jobs/{j['id']}").json()["progress"] for j in (second, third)]
        assert progress == [
            {"state": "queued", "queue_position": 1},
            {"state": "queued", "queue_position": 2},
        ]
        comfy.resume()
        for job in (first, second, third):
            wait_for_job(client, job["id"], "succeeded")

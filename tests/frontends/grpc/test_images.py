"""lowart.v1.ImageService through the generated stubs, against the fake ComfyUI."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import orjson
import pytest

from lowart._proto import images_pb2, images_pb2_grpc
from tests.frontends.grpc.conftest import auth, target_for
from tests.images._client import http, png_size, wait_until
from tests.images.conftest import comfy_options
from tests.support.fake_comfyui import reference_workflow
from tests.support.servers import GatewayHandle

pb = images_pb2
RUNNING = pb.IMAGE_PROGRESS_STATE_RUNNING


@pytest.fixture
def img(grpc_gateway: GatewayHandle, fake_comfyui) -> GatewayHandle:
    grpc_gateway.add_model(
        "img", "comfyui", base_url=fake_comfyui.base_url, options=comfy_options()
    )
    grpc_gateway.extra["comfy"] = fake_comfyui
    return grpc_gateway


@pytest.fixture(params=["tcp", "uds"])
def images(request: pytest.FixtureRequest, img: GatewayHandle) -> Iterator:
    with grpc.insecure_channel(target_for(img, request.param)) as channel:
        yield images_pb2_grpc.ImageServiceStub(channel)


@pytest.fixture
def tcp_images(img: GatewayHandle) -> Iterator:
    with grpc.insecure_channel(img.grpc_target) as channel:
        yield images_pb2_grpc.ImageServiceStub(channel)


def _generate(model: str = "img", prompt: str = "a red fox", **options) -> pb.GenerateImagesRequest:
    delivery = options.pop("delivery", pb.IMAGE_DELIVERY_UNSPECIFIED)
    return pb.GenerateImagesRequest(
        spec=pb.ImageSpec(model=model, prompt=prompt, **options), delivery=delivery
    )


def test_progress_then_images_then_summary(img: GatewayHandle, images) -> None:
    comfy = img.extra["comfy"]
    messages = list(
        images.GenerateImages(
            _generate(width=48, height=32, seed=7, steps=3),
            metadata=auth(img.admin_key),
            timeout=20,
        )
    )
    kinds = [m.WhichOneof("event") for m in messages]
    assert kinds[-2:] == ["image", "summary"] and set(kinds[:-2]) == {"progress"}
    job_ids = {m.job_id for m in messages}
    assert len(job_ids) == 1 and job_ids.pop().startswith("job_")
    assert {m.model for m in messages} == {"img"}
    progress = [m.progress for m in messages[:-2]]
    assert progress[0].state == pb.IMAGE_PROGRESS_STATE_QUEUED
    nodes = [(p.node_index, p.node_count, p.node_type) for p in progress if not p.step]
    assert (1, 7, "CheckpointLoaderSimple") in nodes and (5, 7, "KSampler") in nodes
    steps = [(p.step, p.step_count) for p in progress if p.step]
    assert steps == [(1, 3), (2, 3), (3, 3)]
    assert all(p.state == RUNNING for p in progress[1:])

    image = messages[-2].image
    assert image.content_type == "image/png" and png_size(image.data) == (48, 32)
    assert image.size_bytes == len(image.data) and image.file_id.startswith("file-")
    with http(img) as client:  # the same file, over HTTP, for the same key
        assert client.get(img.base_url + image.url).content == image.data
    summary = messages[-1].summary
    assert summary.image_count == 1 and summary.duration_ms > 0
    sent = comfy.prompts[-1]["prompt"]
    assert sent["3"]["inputs"]["seed"] == 7 and sent["6"]["inputs"]["text"] == "a red fox"

    (record,) = img.wait_for_records(1)
    assert (record["interface"], record["route"], record["status"]) == ("grpc", "img", "ok")
    extra = orjson.loads(record["extra"])
    assert extra["images"] == 1 and extra["kind"] == "image_generation"


def test_reference_delivery_sends_no_bytes(img: GatewayHandle, tcp_images) -> None:
    messages = list(
        tcp_images.GenerateImages(
            _generate(n=2, delivery=pb.IMAGE_DELIVERY_REFERENCE),
            metadata=auth(img.admin_key),
            timeout=20,
        )
    )
    outputs = [m.image for m in messages if m.WhichOneof("event") == "image"]
    assert [o.index for o in outputs] == [0, 1]
    assert all(o.data == b"" and o.size_bytes > 0 for o in outputs)
    assert len({o.file_id for o in outputs}) == 2
    assert messages[-1].summary.image_count == 2


def test_node_error_is_invalid_argument_naming_the_node(img: GatewayHandle, images) -> None:
    comfy = img.extra["comfy"]
    options = comfy_options(reference_workflow("invalid_bad_value.json"))
    img.add_model("bad", "comfyui", base_url=comfy.base_url, options=options)
    with pytest.raises(grpc.RpcError) as info:
        list(images.GenerateImages(_generate("bad"), metadata=auth(img.admin_key), timeout=20))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = info.value.details()
    assert "ComfyUI rejected the workflow of model 'bad'" in details
    assert "node 1 (EmptyImage)" in details and "bigger than max of 16384" in details
    assert str(comfy.port) not in details
    (record,) = img.wait_for_records(1)
    assert (record["interface"], record["status"], record["error_code"]) == (
        "grpc",
        "error",
        "workflow_invalid",
    )


def test_node_failing_while_running_ends_the_stream_with_a_status(
    img: GatewayHandle, tcp_images
) -> None:
    comfy = img.extra["comfy"]
    options = comfy_options(reference_workflow("runtime_error_alloc.json"))
    img.add_model("boom", "comfyui", base_url=comfy.base_url, options=options)
    received = []
    with pytest.raises(grpc.RpcError) as info:
        for message in tcp_images.GenerateImages(
            _generate("boom"), metadata=auth(img.admin_key), timeout=20
        ):
            received.append(message.WhichOneof("event"))
    assert received and set(received) == {"progress"}
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "node 1 (EmptyImage)" in info.value.details()
    (record,) = img.wait_for_records(1)
    assert record["status"] == "error" and record["error_code"] == "execution_error"


def test_cancel_mid_generation_interrupts_comfyui(img: GatewayHandle, images) -> None:
    comfy = img.extra["comfy"]
    comfy.step_delay = 0.02
    call = images.GenerateImages(_generate(steps=500), metadata=auth(img.admin_key), timeout=20)
    for message in call:
        if message.progress.step == 2:
            break
    call.cancel()
    prompt_id = comfy.prompts[-1]["prompt_id"]
    wait_until(lambda: comfy.interrupts == [prompt_id], what="the interrupt")
    wait_until(lambda: prompt_id in comfy.history, what="ComfyUI to stop")
    (record,) = img.wait_for_records(1)
    assert (record["interface"], record["status"]) == ("grpc", "cancelled")
    job = tcp_job(img, message.job_id)
    assert job.status == pb.IMAGE_JOB_STATUS_CANCELLED


def test_deadline_interrupts_the_generation(img: GatewayHandle, tcp_images) -> None:
    comfy = img.extra["comfy"]
    comfy.step_delay = 0.02
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as info:
        list(
            tcp_images.GenerateImages(
                _generate(steps=500), metadata=auth(img.admin_key), timeout=0.6
            )
        )
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 3
    prompt_id = comfy.prompts[-1]["prompt_id"]
    # interrupted mid-run (or, on a slow machine, dequeued before it started)
    wait_until(lambda: [prompt_id] in (comfy.interrupts, comfy.deleted), what="the cancel")
    (record,) = img.wait_for_records(1)
    assert (record["interface"], record["status"]) == ("grpc", "cancelled")


def test_deadline_before_comfyui_accepts_still_cancels_the_prompt(
    img: GatewayHandle, tcp_images
) -> None:
    """The caller never learnt the job id, so lowart cancels the prompt once it is queued."""
    comfy = img.extra["comfy"]
    comfy.accept_delay = 0.6
    comfy.pause()
    with pytest.raises(grpc.RpcError) as info:
        list(tcp_images.GenerateImages(_generate(), metadata=auth(img.admin_key), timeout=0.2))
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    prompt_id = comfy.prompts[-1]["prompt_id"]
    # dequeued if ComfyUI had not picked it up yet, else interrupted before its first node
    wait_until(lambda: [prompt_id] in (comfy.interrupts, comfy.deleted), what="the cancel")
    comfy.resume()
    if comfy.interrupts:
        wait_until(lambda: prompt_id in comfy.history, what="ComfyUI to stop")
        assert comfy.history[prompt_id]["status"]["messages"][-1][0] == "execution_interrupted"
    else:
        assert prompt_id not in comfy.history
    (record,) = img.wait_for_records(1)
    assert (record["interface"], record["status"]) == ("grpc", "cancelled")


def tcp_job(handle: GatewayHandle, job_id: str, key: str | None = None) -> pb.ImageJob:
    with grpc.insecure_channel(handle.grpc_target) as channel:
        stub = images_pb2_grpc.ImageServiceStub(channel)
        reply = stub.GetImageJob(
            pb.GetImageJobRequest(id=job_id), metadata=auth(key or handle.admin_key), timeout=5
        )
    return reply.job


def test_jobs_run_list_and_stay_private(img: GatewayHandle, images) -> None:
    meta = auth(img.admin_key)
    created = images.CreateImageJob(
        pb.CreateImageJobRequest(spec=pb.ImageSpec(model="img", prompt="later", n=2)),
        metadata=meta,
        timeout=10,
    ).job
    assert created.id.startswith("job_") and created.model == "img"
    assert created.status in (pb.IMAGE_JOB_STATUS_QUEUED, pb.IMAGE_JOB_STATUS_RUNNING)
    assert created.HasField("create_time") and not created.HasField("finish_time")

    def finished() -> pb.ImageJob | None:
        job = images.GetImageJob(pb.GetImageJobRequest(id=created.id), metadata=meta, timeout=5)
        return job.job if job.job.status == pb.IMAGE_JOB_STATUS_SUCCEEDED else None

    done = wait_until(finished, what="the job to succeed")
    assert len(done.outputs) == 2 and all(o.data == b"" for o in done.outputs)
    assert done.finish_time.seconds >= done.create_time.seconds
    assert not done.HasField("error") and not done.HasField("progress")
    with http(img) as client:
        assert png_size(client.get(img.base_url + done.outputs[0].url).content) == (64, 64)
    listed = images.ListImageJobs(pb.ListImageJobsRequest(), metadata=meta, timeout=5).jobs
    assert [j.id for j in listed] == [created.id]

    other = auth(img.create_key("other"))
    for call, request in (
        (images.GetImageJob, pb.GetImageJobRequest(id=created.id)),
        (images.CancelImageJob, pb.CancelImageJobRequest(id=created.id)),
    ):
        with pytest.raises(grpc.RpcError) as info:
            call(request, metadata=other, timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert info.value.details() == f"No job '{created.id}'."
    assert (
        list(images.ListImageJobs(pb.ListImageJobsRequest(), metadata=other, timeout=5).jobs) == []
    )
    (record,) = img.wait_for_records(1)
    assert record["interface"] == "grpc" and orjson.loads(record["extra"])["async"] is True


def test_cancel_job_interrupts_a_running_prompt(img: GatewayHandle, tcp_images) -> None:
    comfy = img.extra["comfy"]
    meta = auth(img.admin_key)
    comfy.pause()
    job = tcp_images.CreateImageJob(
        pb.CreateImageJobRequest(spec=pb.ImageSpec(model="img", prompt="stop me")),
        metadata=meta,
        timeout=10,
    ).job
    wait_until(lambda: comfy.running_prompt_id, what="ComfyUI to start the prompt")
    cancelled = tcp_images.CancelImageJob(
        pb.CancelImageJobRequest(id=job.id), metadata=meta, timeout=5
    ).job
    assert cancelled.status == pb.IMAGE_JOB_STATUS_CANCELLED
    assert comfy.interrupts == [comfy.prompts[-1]["prompt_id"]]
    comfy.resume()
    (record,) = img.wait_for_records(1)
    assert (record["interface"], record["status"]) == ("grpc", "cancelled")


def test_failed_job_reports_the_node_error(img: GatewayHandle, tcp_images) -> None:
    comfy = img.extra["comfy"]
    options = comfy_options(reference_workflow("runtime_error_alloc.json"))
    img.add_model("boom", "comfyui", base_url=comfy.base_url, options=options)
    meta = auth(img.admin_key)
    job = tcp_images.CreateImageJob(
        pb.CreateImageJobRequest(spec=pb.ImageSpec(model="boom", prompt="x")),
        metadata=meta,
        timeout=10,
    ).job

    def failed() -> pb.ImageJob | None:
        found = tcp_images.GetImageJob(pb.GetImageJobRequest(id=job.id), metadata=meta, timeout=5)
        return found.job if found.job.status == pb.IMAGE_JOB_STATUS_FAILED else None

    done = wait_until(failed, what="the job to fail")
    assert done.error.code == "execution_error" and "node 1 (EmptyImage)" in done.error.message


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (_generate(width=64), grpc.StatusCode.INVALID_ARGUMENT, "'width' and 'height' together"),
        (_generate(prompt=" "), grpc.StatusCode.INVALID_ARGUMENT, "'prompt' is required"),
        (_generate(n=99), grpc.StatusCode.INVALID_ARGUMENT, "'n' must be an integer from 1"),
        (_generate("mock"), grpc.StatusCode.INVALID_ARGUMENT, "does not generate images"),
        (_generate("nope"), grpc.StatusCode.NOT_FOUND, "nope"),
        (
            _generate(image=pb.InputImage(data=b"x", content_type="text/plain")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "must be an image",
        ),
    ],
)
def test_bad_requests_get_clear_statuses(
    img: GatewayHandle, tcp_images, request_, code, message
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        list(tcp_images.GenerateImages(request_, metadata=auth(img.admin_key), timeout=10))
    assert info.value.code() == code
    assert message in info.value.details()
    assert img.extra["comfy"].prompts == []


def test_bad_key_is_unauthenticated(img: GatewayHandle, tcp_images) -> None:
    with pytest.raises(grpc.RpcError) as info:
        list(tcp_images.GenerateImages(_generate(), metadata=auth("la-wrong"), timeout=10))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as info:
        tcp_images.ListImageJobs(pb.ListImageJobsRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED

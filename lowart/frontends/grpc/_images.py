"""ImageService messages to the image engine's shapes and back.

On the way in an `ImageSpec` becomes the Images API body the engine already
validates for HTTP (so limits and messages are the same everywhere); on the
way out progress snapshots, stored files and job objects become protobuf.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import fields
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from lowart._proto import images_pb2
from lowart.errors import InvalidRequest
from lowart.images import GenerationResult, ImageGeneration, ImageOutput, InputImage
from lowart.types import ImageProgress

__all__ = ["image_body", "job_message", "progress_response", "result_responses", "wants_bytes"]

_OPTIONAL = ("negative_prompt", "n", "seed", "steps", "cfg")
_STATES = {
    "queued": images_pb2.IMAGE_PROGRESS_STATE_QUEUED,
    "running": images_pb2.IMAGE_PROGRESS_STATE_RUNNING,
}
_PROGRESS_FIELDS = frozenset(f.name for f in fields(ImageProgress))
_JOB_STATUS = {
    "queued": images_pb2.IMAGE_JOB_STATUS_QUEUED,
    "running": images_pb2.IMAGE_JOB_STATUS_RUNNING,
    "succeeded": images_pb2.IMAGE_JOB_STATUS_SUCCEEDED,
    "failed": images_pb2.IMAGE_JOB_STATUS_FAILED,
    "cancelled": images_pb2.IMAGE_JOB_STATUS_CANCELLED,
}


def image_body(spec: images_pb2.ImageSpec) -> tuple[dict[str, Any], InputImage | None]:
    """The Images API body (and input image) an ImageSpec asks for."""
    body: dict[str, Any] = {"model": spec.model, "prompt": spec.prompt}
    for name in _OPTIONAL:
        if spec.HasField(name):
            body[name] = getattr(spec, name)
    if spec.HasField("width") != spec.HasField("height"):
        raise InvalidRequest("Set 'width' and 'height' together, or neither.", param="width")
    if spec.HasField("width"):
        body["size"] = f"{spec.width}x{spec.height}"
    image = None
    if spec.HasField("image"):
        image = InputImage.checked(spec.image.data, spec.image.content_type, "image")
    return body, image


def wants_bytes(request: images_pb2.GenerateImagesRequest) -> bool:
    return request.delivery != images_pb2.IMAGE_DELIVERY_REFERENCE


def progress_message(progress: ImageProgress) -> images_pb2.ImageProgress:
    return images_pb2.ImageProgress(
        state=_STATES.get(progress.state, images_pb2.IMAGE_PROGRESS_STATE_UNSPECIFIED),
        queue_position=progress.queue_position or 0,
        node_id=progress.node or "",
        node_type=progress.node_type or "",
        node_index=progress.node_index,
        node_count=progress.node_count,
        step=progress.step or 0,
        step_count=progress.steps or 0,
    )


def output_message(output: ImageOutput, data: bytes = b"") -> images_pb2.ImageOutput:
    return images_pb2.ImageOutput(
        index=output.index,
        file_id=output.file_id,
        url=output.url,
        content_type=output.content_type,
        size_bytes=output.size,
        data=data,
    )


def progress_response(
    generation: ImageGeneration, progress: ImageProgress
) -> images_pb2.GenerateImagesResponse:
    return images_pb2.GenerateImagesResponse(
        job_id=generation.job_id,
        model=generation.route.name,
        progress=progress_message(progress),
    )


async def result_responses(
    result: GenerationResult, *, with_bytes: bool
) -> AsyncIterator[images_pb2.GenerateImagesResponse]:
    """One `image` message per result (each read from disk only when it is sent), then
    the summary."""
    job_id, model = result.job_id, result.model
    for output in result.outputs:
        data = await output.read() if with_bytes else b""
        yield images_pb2.GenerateImagesResponse(
            job_id=job_id, model=model, image=output_message(output, data)
        )
    summary = images_pb2.ImageSummary(
        image_count=len(result.outputs), duration_ms=round(result.duration_ms)
    )
    yield images_pb2.GenerateImagesResponse(job_id=job_id, model=model, summary=summary)


def job_message(job: dict[str, Any]) -> images_pb2.ImageJob:
    """A job object (the engine's public JSON shape, as GET /v1/jobs/{id} gives it)."""
    message = images_pb2.ImageJob(
        id=job["id"],
        model=job["model"],
        status=_JOB_STATUS.get(job["status"], images_pb2.IMAGE_JOB_STATUS_UNSPECIFIED),
        outputs=[
            images_pb2.ImageOutput(
                index=index,
                file_id=output["file_id"],
                url=output["url"],
                content_type=output["content_type"],
                size_bytes=output["bytes"],
            )
            for index, output in enumerate(job.get("outputs") or ())
        ],
    )
    for field, key in (
        ("create_time", "created_at"),
        ("start_time", "started_at"),
        ("finish_time", "finished_at"),
    ):
        if job.get(key) is not None:
            getattr(message, field).CopyFrom(Timestamp(seconds=job[key]))
    progress = job.get("progress")
    if progress:
        known = {k: v for k, v in progress.items() if k in _PROGRESS_FIELDS}
        message.progress.CopyFrom(progress_message(ImageProgress(**known)))
    error = job.get("error")
    if error:
        message.error.CopyFrom(
            images_pb2.ImageJobError(code=error.get("code") or "", message=error.get("message"))
        )
    return message

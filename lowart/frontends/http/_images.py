"""Image endpoints: the OpenAI Images API, async jobs and result files.

Chat completions on an image model go through /v1/chat/completions like any
other model; these handlers only decode, call the Gateway, and encode.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from lowart.errors import InvalidRequest
from lowart.frontends._web import call_context, presented_key, read_json
from lowart.frontends.http._state import GATEWAY
from lowart.gateway import Gateway
from lowart.images import AcceptedJob, GeneratedImages, InputImage
from lowart.types import Principal

__all__ = ["routes"]

routes = web.RouteTableDef()


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


def _generated(result: GeneratedImages | AcceptedJob) -> web.Response:
    """200 and the images, or 202 and the job when it runs on in the background."""
    if isinstance(result, AcceptedJob):
        return _json(result.job, 202)
    return _json({"created": result.created, "data": list(result.data)})


async def _caller(request: web.Request) -> tuple[Gateway, Principal]:
    gateway = request.app[GATEWAY]
    return gateway, await gateway.authenticate(presented_key(request))


@routes.post("/v1/images/generations")
async def images_generations(request: web.Request) -> web.Response:
    gateway, principal = await _caller(request)
    return _generated(
        await gateway.generate_images(principal, await read_json(request), call_context(request))
    )


_FORM_INTS = ("n", "seed", "steps")


@routes.post("/v1/images/edits")
async def images_edits(request: web.Request) -> web.Response:
    """The Images API's edits (multipart): the uploaded image is the workflow's input image."""
    gateway, principal = await _caller(request)
    if request.content_type != "multipart/form-data":
        raise InvalidRequest("Send multipart/form-data with an 'image' file and a 'prompt'.")
    form = await request.post()
    body: dict[str, object] = {}
    image = None
    for name, value in form.items():
        if isinstance(value, web.FileField):
            if name in ("image", "image[]") and image is None:
                image = InputImage.checked(value.file.read(), value.content_type, "image")
            continue
        body[name] = value
    for name in _FORM_INTS:
        if name in body:
            try:
                body[name] = int(str(body[name]))
            except ValueError as exc:
                raise InvalidRequest(f"'{name}' must be an integer.", param=name) from exc
    if isinstance(body.get("async"), str):
        body["async"] = body["async"] == "true"
    if image is None:
        raise InvalidRequest("'image' is required: the picture to start from.", param="image")
    ctx = call_context(request)
    return _generated(await gateway.generate_images(principal, body, ctx, image=image))


@routes.post("/v1/jobs")
async def create_job(request: web.Request) -> web.Response:
    gateway, principal = await _caller(request)
    ctx = call_context(request)
    return _generated(
        await gateway.generate_images(principal, await read_json(request), ctx, force_async=True)
    )


@routes.get("/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    gateway, principal = await _caller(request)
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
    except ValueError as exc:
        raise InvalidRequest("'limit' must be an integer.", param="limit") from exc
    jobs = await gateway.list_jobs(principal, call_context(request), limit)
    return _json({"object": "list", "data": jobs})


@routes.get("/v1/jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    gateway, principal = await _caller(request)
    job_id = request.match_info["job_id"]
    return _json(await gateway.get_job(principal, job_id, call_context(request)))


@routes.post("/v1/jobs/{job_id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    gateway, principal = await _caller(request)
    job_id = request.match_info["job_id"]
    return _json(await gateway.cancel_job(principal, job_id, call_context(request)))


@routes.get("/v1/files/{file_id}/content")
async def file_content(request: web.Request) -> web.StreamResponse:
    gateway, principal = await _caller(request)
    path, row = await gateway.image_file(principal, request.match_info["file_id"])
    return web.FileResponse(
        path,
        headers={
            "Content-Type": row["content_type"],
            "Content-Disposition": f'inline; filename="{row["id"]}{path.suffix}"',
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )

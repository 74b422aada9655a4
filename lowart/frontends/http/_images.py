"""Image endpoints: the OpenAI Images API, async jobs and result files.

Chat completions on an image model go through /v1/chat/completions like any
other model; these handlers only decode, call `gateway.images`, and encode.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from lowart.errors import InvalidRequest
from lowart.frontends.http._keys import RUNTIME, call_context
from lowart.frontends.http._request import presented_key, read_json
from lowart.images import ImageService, InputImage
from lowart.types import Principal

__all__ = ["routes"]

routes = web.RouteTableDef()


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


async def _caller(request: web.Request) -> tuple[ImageService, Principal]:
    gateway = request.app[RUNTIME].gateway
    principal = await gateway.authenticate(presented_key(request))
    if gateway.images is None:
        raise InvalidRequest("Image generation is not enabled on this gateway.", status=404)
    return gateway.images, principal


@routes.post("/v1/images/generations")
async def images_generations(request: web.Request) -> web.Response:
    images, principal = await _caller(request)
    status, payload = await images.generate(
        principal, await read_json(request), call_context(request)
    )
    return _json(payload, status)


_FORM_INTS = ("n", "seed", "steps")


@routes.post("/v1/images/edits")
async def images_edits(request: web.Request) -> web.Response:
    """The Images API's edits (multipart): the uploaded image is the workflow's input image."""
    images, principal = await _caller(request)
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
    status, payload = await images.generate(principal, body, ctx, image=image)
    return _json(payload, status)


@routes.post("/v1/jobs")
async def create_job(request: web.Request) -> web.Response:
    images, principal = await _caller(request)
    ctx = call_context(request)
    status, payload = await images.generate(
        principal, await read_json(request), ctx, force_async=True
    )
    return _json(payload, status)


@routes.get("/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    images, principal = await _caller(request)
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
    except ValueError as exc:
        raise InvalidRequest("'limit' must be an integer.", param="limit") from exc
    jobs = await images.list_jobs(principal, call_context(request), limit)
    return _json({"object": "list", "data": jobs})


@routes.get("/v1/jobs/{job_id}")
async def get_job(request: web.Request) -> web.Response:
    images, principal = await _caller(request)
    job_id = request.match_info["job_id"]
    return _json(await images.get_job(principal, job_id, call_context(request)))


@routes.post("/v1/jobs/{job_id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    images, principal = await _caller(request)
    job_id = request.match_info["job_id"]
    return _json(await images.cancel_job(principal, job_id, call_context(request)))


@routes.get("/v1/files/{file_id}/content")
async def file_content(request: web.Request) -> web.StreamResponse:
    images, principal = await _caller(request)
    path, row = await images.file(principal, request.match_info["file_id"])
    return web.FileResponse(
        path,
        headers={
            "Content-Type": row["content_type"],
            "Content-Disposition": f'inline; filename="{row["id"]}{path.suffix}"',
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )

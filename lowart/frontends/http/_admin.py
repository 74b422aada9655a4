"""Admin endpoints under /admin/: keys, models and usage, for admin keys only.

They call the same `Admin` operations as the CLI, then apply the change to this
process's caches at once.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lowart.errors import InvalidRequest
from lowart.frontends.http._keys import RUNTIME
from lowart.frontends.http._request import presented_key, read_json

__all__ = ["routes"]

routes = web.RouteTableDef()


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


async def _admin(request: web.Request):
    runtime = request.app[RUNTIME]
    principal = await runtime.gateway.authenticate(presented_key(request))
    runtime.gateway.require_admin(principal)
    return runtime


async def _object_body(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


@routes.get("/admin/keys")
async def list_keys(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    return _json({"data": await runtime.admin.list_keys()})


@routes.post("/admin/keys")
async def create_key(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    body = await _object_body(request)
    key, info = await runtime.admin.create_key(
        body.get("name"),
        admin=bool(body.get("admin", False)),
        rpm=body.get("rpm"),
        tpm=body.get("tpm"),
        quota=body.get("quota"),
        models=body.get("models"),
        concurrency=body.get("concurrency"),
        quota_period=body.get("quota_period") or "total",
    )
    await runtime.reload()
    return _json({**info, "key": key}, status=201)


@routes.patch("/admin/keys/{name}")
async def update_key(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    info = await runtime.admin.update_key(request.match_info["name"], **await _object_body(request))
    await runtime.reload()
    return _json(info)


@routes.post("/admin/keys/{name}/revoke")
@routes.delete("/admin/keys/{name}")
async def revoke_key(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    await runtime.admin.revoke_key(request.match_info["name"])
    await runtime.reload()
    return _json({"name": request.match_info["name"], "revoked": True})


def _deployment(request: web.Request) -> int | None:
    raw = request.query.get("deployment")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidRequest("'deployment' must be an integer id.", param="deployment") from exc


@routes.get("/admin/models")
async def list_models(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    rows = await runtime.admin.list_models()
    for row in rows:  # this process's live breaker beats the last published state
        live = runtime.gateway.breakers.snapshot(row["id"])
        if live is not None:
            row["circuit"] = live.state
    return _json({"data": rows})


@routes.post("/admin/models")
async def add_model(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    body = await _object_body(request)
    name = body.pop("name", None)
    vendor = body.pop("vendor", None)
    if not vendor:
        raise InvalidRequest("'vendor' is required.", param="vendor")
    model = await runtime.admin.add_model(name, vendor=vendor, **body)
    await runtime.reload()
    return _json(model, status=201)


@routes.patch("/admin/models/{name}")
async def update_model(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    body = await _object_body(request)
    model = await runtime.admin.update_model(
        request.match_info["name"], _deployment(request), **body
    )
    await runtime.reload()
    return _json(model)


@routes.delete("/admin/models/{name}")
async def remove_model(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    await runtime.admin.remove_model(request.match_info["name"], _deployment(request))
    await runtime.reload()
    return _json({"name": request.match_info["name"], "removed": True})


@routes.get("/admin/fallbacks")
async def list_fallbacks(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    return _json({"data": await runtime.admin.routing.list_fallbacks(request.query.get("model"))})


@routes.post("/admin/fallbacks")
async def add_fallback(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    body = await _object_body(request)
    edge = await runtime.admin.routing.add_fallback(
        body.get("model"), body.get("fallback"), body.get("priority", 0)
    )
    await runtime.reload()
    return _json(edge, status=201)


@routes.delete("/admin/fallbacks")
async def remove_fallback(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    model, fallback = request.query.get("model"), request.query.get("fallback")
    if not model or not fallback:
        raise InvalidRequest("Give the edge as ?model=PRIMARY&fallback=FALLBACK.")
    await runtime.admin.routing.remove_fallback(model, fallback)
    await runtime.reload()
    return _json({"model": model, "fallback": fallback, "removed": True})


@routes.get("/admin/usage")
async def usage(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    await runtime.usage_writer.flush()
    rows = await runtime.admin.usage_summary(
        by=request.query.get("by", "model"), since=request.query.get("since")
    )
    return _json({"data": rows})


@routes.get("/admin/usage/records")
async def usage_records(request: web.Request) -> web.Response:
    runtime = await _admin(request)
    await runtime.usage_writer.flush()
    try:
        limit = min(int(request.query.get("limit", "100")), 10_000)
    except ValueError as exc:
        raise InvalidRequest("'limit' must be an integer.", param="limit") from exc
    rows = await runtime.admin.usage.records(limit=limit)
    for row in rows:
        row["created_at"] = row["created_at"].isoformat()
        row["extra"] = orjson.loads(row["extra"]) if row["extra"] else None
    return _json({"data": rows})

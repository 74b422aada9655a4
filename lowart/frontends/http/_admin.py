"""Admin endpoints under /admin/: keys, models and usage, for admin keys only.

They decode, call the same `Admin` operations as the CLI (which apply their own
side effects: this process's caches, pending usage rows), and encode.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from lowart.admin import Admin
from lowart.errors import InvalidRequest
from lowart.frontends._web import presented_key, read_json
from lowart.frontends.http._self import csv_response
from lowart.frontends.http._state import ADMIN, GATEWAY, IN_FLIGHT

__all__ = ["routes"]

routes = web.RouteTableDef()


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


async def _admin(request: web.Request) -> Admin:
    """The Admin service, once the caller proved it holds an admin key."""
    admin = request.app[ADMIN]
    admin.require_admin(await request.app[GATEWAY].authenticate(presented_key(request)))
    return admin


async def _object_body(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


@routes.get("/admin/keys")
async def list_keys(request: web.Request) -> web.Response:
    admin = await _admin(request)
    return _json({"data": await admin.list_keys()})


@routes.post("/admin/keys")
async def create_key(request: web.Request) -> web.Response:
    admin = await _admin(request)
    body = await _object_body(request)
    key, info = await admin.create_key(
        body.get("name"),
        admin=body.get("admin", False),
        rpm=body.get("rpm"),
        tpm=body.get("tpm"),
        quota=body.get("quota"),
        models=body.get("models"),
        concurrency=body.get("concurrency"),
        quota_period=body.get("quota_period") or "total",
        budget=body.get("budget"),
        budget_period=body.get("budget_period") or "total",
        tools=body.get("tools"),
    )
    return _json({**info, "key": key}, status=201)


@routes.patch("/admin/keys/{name}")
async def update_key(request: web.Request) -> web.Response:
    admin = await _admin(request)
    info = await admin.update_key(request.match_info["name"], **await _object_body(request))
    return _json(info)


@routes.post("/admin/keys/{name}/revoke")
@routes.delete("/admin/keys/{name}")
async def revoke_key(request: web.Request) -> web.Response:
    admin = await _admin(request)
    await admin.revoke_key(request.match_info["name"])
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
    admin = await _admin(request)
    return _json({"data": await admin.list_models()})


@routes.post("/admin/models")
async def add_model(request: web.Request) -> web.Response:
    admin = await _admin(request)
    body = await _object_body(request)
    name = body.pop("name", None)
    vendor = body.pop("vendor", None)
    if not vendor:
        raise InvalidRequest("'vendor' is required.", param="vendor")
    model = await admin.add_model(name, vendor=vendor, **body)
    return _json(model, status=201)


@routes.patch("/admin/models/{name}")
async def update_model(request: web.Request) -> web.Response:
    admin = await _admin(request)
    body = await _object_body(request)
    model = await admin.update_model(request.match_info["name"], _deployment(request), **body)
    return _json(model)


@routes.delete("/admin/models/{name}")
async def remove_model(request: web.Request) -> web.Response:
    admin = await _admin(request)
    await admin.remove_model(request.match_info["name"], _deployment(request))
    return _json({"name": request.match_info["name"], "removed": True})


@routes.post("/admin/models/{name}/circuit/reset")
async def reset_circuit(request: web.Request) -> web.Response:
    """Close a deployment's circuit now (e.g. after fixing its credentials)."""
    admin = await _admin(request)
    rows = await admin.reset_circuit(request.match_info["name"], _deployment(request))
    return _json({"data": rows})


@routes.get("/admin/fallbacks")
async def list_fallbacks(request: web.Request) -> web.Response:
    admin = await _admin(request)
    return _json({"data": await admin.routing.list_fallbacks(request.query.get("model"))})


@routes.post("/admin/fallbacks")
async def add_fallback(request: web.Request) -> web.Response:
    admin = await _admin(request)
    body = await _object_body(request)
    edge = await admin.routing.add_fallback(
        body.get("model"), body.get("fallback"), body.get("priority", 0)
    )
    return _json(edge, status=201)


@routes.delete("/admin/fallbacks")
async def remove_fallback(request: web.Request) -> web.Response:
    admin = await _admin(request)
    model, fallback = request.query.get("model"), request.query.get("fallback")
    if not model or not fallback:
        raise InvalidRequest("Give the edge as ?model=PRIMARY&fallback=FALLBACK.")
    await admin.routing.remove_fallback(model, fallback)
    return _json({"model": model, "fallback": fallback, "removed": True})


@routes.get("/admin/aliases")
async def list_aliases(request: web.Request) -> web.Response:
    admin = await _admin(request)
    return _json({"data": await admin.routing.list_aliases()})


@routes.post("/admin/aliases")
async def add_alias(request: web.Request) -> web.Response:
    """`{"pattern": "claude-*", "model": "ROUTE"}`; pattern `*` is the default route."""
    admin = await _admin(request)
    body = await _object_body(request)
    return _json(await admin.routing.add_alias(body.get("pattern"), body.get("model")), status=201)


@routes.delete("/admin/aliases")
async def remove_alias(request: web.Request) -> web.Response:
    admin = await _admin(request)
    pattern = request.query.get("pattern")
    if not pattern:
        raise InvalidRequest("Give the alias as ?pattern=PATTERN.")
    await admin.routing.remove_alias(pattern)
    return _json({"pattern": pattern, "removed": True})


@routes.get("/admin/usage")
async def usage(request: web.Request) -> web.Response:
    admin = await _admin(request)
    report = await admin.usage_report(
        by=request.query.get("by", "model"), since=request.query.get("since")
    )
    return _json(report)


@routes.get("/admin/usage/records")
async def usage_records(request: web.Request) -> web.Response:
    admin = await _admin(request)
    query = request.query
    limit = _integer(query, "limit") or 100
    rows = await admin.usage_records(
        limit,
        key=query.get("key"),
        model=query.get("model"),
        status=query.get("status"),
        interface=query.get("interface"),
        since=query.get("since"),
        after_id=_integer(query, "after"),
    )
    return _json({"data": rows})


def _integer(query: Any, name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidRequest(f"'{name}' must be an integer.", param=name) from exc


@routes.get("/admin/usage/series")
async def usage_series(request: web.Request) -> web.Response:
    """Requests, errors, tokens, cost and latency/TTFT percentiles per time bucket."""
    admin = await _admin(request)
    return _json(await admin.explore.series(request.query))


@routes.get("/admin/usage/search")
async def usage_search(request: web.Request) -> web.Response:
    """Records filtered by key, model, interface, status and time; paged by id."""
    admin = await _admin(request)
    return _json(await admin.explore.records(request.query))


@routes.get("/admin/usage/export.csv")
async def usage_csv(request: web.Request) -> web.Response:
    admin = await _admin(request)
    return csv_response(await admin.explore.csv(request.query), "usage.csv")


@routes.get("/admin/live")
async def live(request: web.Request) -> web.Response:
    """This process now: open chat streams, other HTTP requests in flight, and every
    deployment's circuit."""
    admin = await _admin(request)
    circuits = [
        {"id": m["id"], "name": m["name"], "circuit": m.get("circuit")}
        for m in await admin.list_models()
    ]
    return _json(
        {
            "open_streams": request.app[GATEWAY].live.count,
            "in_flight": max(0, len(request.app[IN_FLIGHT]) - 1),
            "circuits": circuits,
        }
    )


@routes.post("/admin/scripts/dry-run")
async def dry_run_script(request: web.Request) -> web.Response:
    """Run a Lua script against sample payloads of a vendor and show the results,
    without saving it (the dashboard shows them before the script is uploaded)."""
    admin = await _admin(request)
    body = await _object_body(request)
    results = await asyncio.to_thread(
        admin.dry_run_script, body.get("script"), body.get("vendor") or "openai"
    )
    return _json({"ok": True, "results": results})

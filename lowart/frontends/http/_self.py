"""Self-service endpoints under /self/: any key's own limits, quota and usage.

The same queries as the admin usage endpoints, narrowed to the caller's key by
the Admin service, so a non-admin key (signed in to the dashboard or with its
bearer key) sees its own usage and nobody else's.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from lowart.frontends._web import presented_key
from lowart.frontends.http._state import ADMIN, GATEWAY
from lowart.types import Principal

__all__ = ["csv_response", "routes"]

routes = web.RouteTableDef()


def _json(payload: object) -> web.Response:
    return web.Response(body=orjson.dumps(payload), content_type="application/json")


def csv_response(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _caller(request: web.Request) -> Principal:
    return await request.app[GATEWAY].authenticate(presented_key(request))


@routes.get("/self/account")
async def account(request: web.Request) -> web.Response:
    principal = await _caller(request)
    return _json(await request.app[ADMIN].account(principal))


@routes.get("/self/usage/series")
async def usage_series(request: web.Request) -> web.Response:
    principal = await _caller(request)
    return _json(await request.app[ADMIN].explore.series(request.query, principal.key_id))


@routes.get("/self/usage/records")
async def usage_records(request: web.Request) -> web.Response:
    principal = await _caller(request)
    return _json(await request.app[ADMIN].explore.records(request.query, principal.key_id))


@routes.get("/self/usage/export.csv")
async def usage_csv(request: web.Request) -> web.Response:
    principal = await _caller(request)
    text = await request.app[ADMIN].explore.csv(request.query, principal.key_id)
    return csv_response(text, "usage.csv")

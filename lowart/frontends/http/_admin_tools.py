"""Admin endpoints of the MCP gateway: upstream servers, tool policies, tool-call audit.

Same rules as every /admin endpoint (admin keys only, OpenAI-shaped errors);
they decode, call `Admin.tools` (the CLI's operations) and encode. Nothing
here ever returns a stored header or environment value.
"""

from __future__ import annotations

from aiohttp import web

from lowart.admin import ToolsAdmin
from lowart.errors import InvalidRequest, ServiceUnavailable
from lowart.frontends.http._admin import _admin, _integer, _json, _object_body

__all__ = ["routes"]

routes = web.RouteTableDef()


async def _tools(request: web.Request) -> ToolsAdmin:
    admin = await _admin(request)
    if admin.tools is None:
        raise ServiceUnavailable("The MCP gateway is not configured in this process.")
    return admin.tools


@routes.get("/admin/mcp-servers")
async def list_servers(request: web.Request) -> web.Response:
    tools = await _tools(request)
    return _json({"data": await tools.list_servers()})


@routes.post("/admin/mcp-servers")
async def add_server(request: web.Request) -> web.Response:
    """`{"name", "url", "headers"?}` or `{"name", "command", "args"?, "env"?}`, plus
    `enabled`, `timeout`, `max_result_bytes`."""
    tools = await _tools(request)
    body = await _object_body(request)
    name = body.pop("name", None)
    return _json(await tools.add_server(name, **body), status=201)


@routes.get("/admin/mcp-servers/{name}")
async def get_server(request: web.Request) -> web.Response:
    tools = await _tools(request)
    return _json(await tools.get_server(request.match_info["name"]))


@routes.patch("/admin/mcp-servers/{name}")
async def update_server(request: web.Request) -> web.Response:
    tools = await _tools(request)
    body = await _object_body(request)
    return _json(await tools.update_server(request.match_info["name"], **body))


@routes.delete("/admin/mcp-servers/{name}")
async def remove_server(request: web.Request) -> web.Response:
    tools = await _tools(request)
    await tools.remove_server(request.match_info["name"])
    return _json({"name": request.match_info["name"], "removed": True})


@routes.get("/admin/tool-policies")
async def list_policies(request: web.Request) -> web.Response:
    tools = await _tools(request)
    return _json({"data": await tools.list_policies()})


@routes.post("/admin/tool-policies")
async def set_policy(request: web.Request) -> web.Response:
    """`{"pattern": "github.*", "policy": "auto|confirm|block", "key"?: NAME_OR_ID}`."""
    tools = await _tools(request)
    body = await _object_body(request)
    row = await tools.set_policy(body.get("pattern"), body.get("policy"), body.get("key"))
    return _json(row, status=201)


@routes.delete("/admin/tool-policies")
async def remove_policy(request: web.Request) -> web.Response:
    tools = await _tools(request)
    pattern = request.query.get("pattern")
    if not pattern:
        raise InvalidRequest("Give the policy as ?pattern=PATTERN[&key=KEY].")
    key = request.query.get("key")
    await tools.remove_policy(pattern, key)
    return _json({"pattern": pattern, "key": key, "removed": True})


@routes.get("/admin/tools")
async def list_tools(request: web.Request) -> web.Response:
    """Every upstream tool with its resolved policy (`?key=` for one key's view)."""
    tools = await _tools(request)
    return _json({"data": await tools.list_tools(request.query.get("key"))})


@routes.get("/admin/tool-calls")
async def tool_calls(request: web.Request) -> web.Response:
    """The audit, newest first: `?key=&server=&since=&limit=&before=` (`before`: the
    last id of the previous page)."""
    tools = await _tools(request)
    query = request.query
    rows = await tools.tool_calls(
        key=query.get("key"),
        server=query.get("server"),
        since=query.get("since"),
        limit=_integer(query, "limit") or 100,
        before=_integer(query, "before"),
    )
    return _json({"data": rows, "next_before": rows[-1]["id"] if rows else None})

"""The MCP server: the SDK's low-level `Server` mapped onto tool and resource specs.

It is transport-agnostic: stdio and streamable HTTP both run this server and
differ only in how they find the caller's key (`PrincipalResolver`). Every
tool call is authenticated again (a cache hit), so a revoked key stops working
mid-session, exactly as on the HTTP API.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import mcp_types as types
import orjson
from mcp.server import InitializationOptions, NotificationOptions, Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params

from lowart import __version__
from lowart.admin import Admin
from lowart.errors import GatewayError
from lowart.frontends.mcp._catalog import LIST_MODELS, MODELS_RESOURCE, USAGE, USAGE_RESOURCE
from lowart.frontends.mcp._chat import CHAT
from lowart.frontends.mcp._errors import internal_error, protocol_error, tool_error
from lowart.frontends.mcp._images import GENERATE_IMAGE
from lowart.frontends.mcp._spec import Caller, ResourceSpec, ToolSpec
from lowart.frontends.mcp._upstream import UpstreamTools
from lowart.gateway import Gateway
from lowart.toolruns import ToolAccess
from lowart.types import CallContext, Principal

__all__ = ["DEFAULT_RESOURCES", "DEFAULT_TOOLS", "PrincipalResolver", "build_server"]

PrincipalResolver = Callable[[ServerRequestContext[Any, Any]], Awaitable[Principal]]
BaseUrlResolver = Callable[[ServerRequestContext[Any, Any]], str | None]

DEFAULT_TOOLS: tuple[ToolSpec, ...] = (CHAT, LIST_MODELS, USAGE, GENERATE_IMAGE)
DEFAULT_RESOURCES: tuple[ResourceSpec, ...] = (MODELS_RESOURCE, USAGE_RESOURCE)

# JSON-RPC code the MCP specification gives an unknown resource URI.
_RESOURCE_NOT_FOUND = -32002

_INSTRUCTIONS = (
    "lowart is an AI API gateway. Use `list_models` to see the models your key may use, "
    "`chat` to ask one of them, `generate_image` to make images with an image model (when "
    "your key has one), and `usage` to see what your key has used."
)


def build_server(
    gateway: Gateway,
    admin: Admin,
    principal_for: PrincipalResolver,
    tools: Sequence[ToolSpec] = DEFAULT_TOOLS,
    resources: Sequence[ResourceSpec] = DEFAULT_RESOURCES,
    base_url_for: BaseUrlResolver | None = None,
    upstream_tools: ToolAccess | None = None,
) -> Server[Any]:
    """lowart's MCP server; with `upstream_tools`, the upstream MCP tools a caller's key
    may use are listed and called beside lowart's own (see `_upstream`)."""
    tools_by_name = {tool.name: tool for tool in tools}
    upstream = UpstreamTools(upstream_tools) if upstream_tools is not None else None
    resources_by_uri = {resource.uri: resource for resource in resources}

    async def caller_for(ctx: ServerRequestContext[Any, Any], request_id: str) -> Caller:
        principal = await principal_for(ctx)

        async def report(progress: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(progress, total, message)

        return Caller(
            gateway=gateway,
            admin=admin,
            principal=principal,
            request_id=request_id,
            wants_progress=progress_token_from_params(ctx.params) is not None,
            report_progress=report,
            base_url=base_url_for(ctx) if base_url_for is not None else None,
        )

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        principal = await _or_protocol_error(principal_for(ctx))
        visible = [t.describe() for t in tools if t.available(gateway, principal)]
        if upstream is not None:
            visible += upstream.listed(ctx, principal)
        return types.ListToolsResult(tools=visible)

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        request_id = f"mcp_{uuid.uuid4().hex}"
        try:
            caller = await caller_for(ctx, request_id)
        except GatewayError as exc:
            return tool_error(exc)
        visible = [t.name for t in tools if t.available(gateway, caller.principal)]
        tool = tools_by_name.get(params.name)
        if tool is None and upstream is not None and upstream.knows(params.name):
            try:
                return await upstream.call(
                    ctx, caller.principal, params.name, dict(params.arguments or {}), request_id
                )
            except MCPError:
                raise
            except Exception as exc:
                return tool_error(internal_error(exc, request_id))
        if tool is None or tool.name not in visible:  # a hidden tool is absent, not refused
            raise MCPError(
                code=types.INVALID_PARAMS,
                message=f"Unknown tool '{params.name}'. Available: {', '.join(visible)}.",
            )
        call = CallContext(request_id=request_id, interface="mcp")
        caller = replace(caller, ctx=call)
        gateway.begin_request(call, f"mcp tools/call {tool.name}")
        status = 200  # the call's HTTP equivalent, for the metrics
        try:
            output = await tool.run(caller, dict(params.arguments or {}))
        except GatewayError as exc:
            status = exc.status
            call.failed(exc.code, exc.cause, getattr(exc, "upstream_status", None))
            return tool_error(exc)
        except asyncio.CancelledError:
            status = 499
            call.failed("client_closed")
            raise
        except Exception as exc:
            status = 500
            call.failed("internal_error")
            return tool_error(internal_error(exc, request_id))
        finally:
            gateway.end_request(call, status)
        images = [
            types.ImageContent(
                type="image", data=base64.b64encode(i.data).decode(), mime_type=i.mime_type
            )
            for i in output.images
        ]
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=output.text), *images],
            structured_content=output.structured,
        )

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        await _or_protocol_error(principal_for(ctx))
        return types.ListResourcesResult(resources=[r.describe() for r in resources])

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        resource = resources_by_uri.get(uri)
        if resource is None:
            raise MCPError(
                code=_RESOURCE_NOT_FOUND,
                message=f"Unknown resource '{uri}'. Available: {', '.join(resources_by_uri)}.",
            )
        request_id = f"mcp_{uuid.uuid4().hex}"
        try:
            document = await resource.read(await caller_for(ctx, request_id))
        except GatewayError as exc:
            raise protocol_error(exc) from None
        except Exception as exc:
            raise protocol_error(internal_error(exc, request_id)) from None
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri, mime_type=resource.mime_type, text=orjson.dumps(document).decode()
                )
            ]
        )

    server_class = _ChangingToolsServer if upstream is not None else Server
    return server_class(
        "lowart",
        version=__version__,
        title="lowart AI gateway",
        instructions=_INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


class _ChangingToolsServer(Server[Any]):
    """A server whose tool list changes (upstream tools come and go): it says so in its
    capabilities (`tools.listChanged`), whoever creates its initialization options."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True),
            experimental_capabilities,
            extensions,
        )


async def _or_protocol_error(principal: Awaitable[Principal]) -> Principal:
    try:
        return await principal
    except GatewayError as exc:
        raise protocol_error(exc) from None

"""The JSON-RPC and HTTP+JSON (REST) bindings and the cards, on lowart's HTTP listener.

Paths (the same on TCP and the Unix socket):

- `GET /.well-known/agent-card.json`: the gateway's public card.
- `GET /a2a/{model}/.well-known/agent-card.json`: a route's card (needs a key).
- `POST /a2a/{model}`: JSON-RPC for that route; `POST /a2a`: JSON-RPC with the
  route as the request's `tenant`.
- `/a2a/{model}/message:send`, `/a2a/{model}/tasks/{id}` ...: HTTP+JSON for the
  route (a client that sets the tenant on the gateway card's `/a2a` base lands
  on the same paths).

aiohttp checks the key (401 with `WWW-Authenticate`) and a route named in the
path (404 / 403) before the SDK's ASGI app sees the request; the Principal
travels to the SDK's handlers in the ASGI scope.
"""

from __future__ import annotations

import uuid
from typing import Any

from a2a.extensions.common import HTTP_EXTENSION_HEADER, get_requested_extensions
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import (
    ServerCallContextBuilder,
    create_jsonrpc_routes,
    create_rest_routes,
)
from aiohttp import web
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route

from lowart.errors import AuthenticationFailed, PayloadTooLarge
from lowart.frontends._web import AsgiBridge, call_context, error_response, presented_key
from lowart.frontends.a2a._caller import BASE_URL, MODEL, PRINCIPAL, REQUEST_ID, KeyUser
from lowart.frontends.a2a._paths import A2A_PATH
from lowart.frontends.a2a._service import A2aAgents
from lowart.types import Principal

__all__ = ["A2aHttpEndpoint"]

_SCOPE_STATE = "lowart.a2a"  # the ASGI scope key carrying what aiohttp admitted
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "proxy-authorization"})


class _ScopeContext(ServerCallContextBuilder):
    """The SDK's call context from what aiohttp put in the scope. The SDK reads the
    request headers from it (the protocol version); the ones carrying the caller's
    key are left out, so no secret lingers in task state."""

    def build(self, request: Request) -> ServerCallContext:
        admitted: dict[str, Any] = dict(request.scope[_SCOPE_STATE])
        admitted["headers"] = {
            name: value for name, value in request.headers.items() if name not in _SECRET_HEADERS
        }
        model = request.path_params.get("model")
        if model:
            admitted[MODEL] = model
        return ServerCallContext(
            user=KeyUser(admitted[PRINCIPAL]),
            state=admitted,
            requested_extensions=get_requested_extensions(
                request.headers.getlist(HTTP_EXTENSION_HEADER)
            ),
        )


def _asgi_app(agents: A2aAgents) -> Starlette:
    builder = _ScopeContext()
    handler = agents.handler
    rest: list[BaseRoute] = [
        route
        for route in create_rest_routes(handler, context_builder=builder)
        if isinstance(route, Route)  # the SDK's /{tenant} mount: our path names the route
    ]
    routes: list[BaseRoute] = []
    for path in (A2A_PATH, f"{A2A_PATH}/{{model}}", f"{A2A_PATH}/{{model}}/"):
        routes += create_jsonrpc_routes(
            handler, rpc_url=path, context_builder=builder, enable_v0_3_compat=True
        )
    routes.append(Mount(f"{A2A_PATH}/{{model}}", routes=rest))
    return Starlette(routes=routes)


async def read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(
            f"The request body is larger than the limit of {request.client_max_size} bytes."
        ) from exc


def _card_response(card: Any) -> web.Response:
    return web.json_response(agent_card_to_dict(card), headers={"Cache-Control": "no-store"})


class A2aHttpEndpoint:
    def __init__(self, agents: A2aAgents) -> None:
        self._agents = agents
        self._app = _asgi_app(agents)
        self._streams: set[AsgiBridge] = set()

    async def _principal(self, request: web.Request) -> Principal | web.Response:
        try:
            return await self._agents.gateway.authenticate(presented_key(request))
        except AuthenticationFailed as exc:
            refusal = error_response(exc)
            refusal.headers["WWW-Authenticate"] = 'Bearer realm="lowart"'
            return refusal

    async def gateway_card(self, request: web.Request) -> web.StreamResponse:
        ctx = call_context(request)
        ctx.speaking("a2a")
        return _card_response(self._agents.gateway_card(ctx.caller_base_url() or ""))

    async def route_card(self, request: web.Request) -> web.StreamResponse:
        ctx = call_context(request)
        ctx.speaking("a2a")
        principal = await self._principal(request)
        if isinstance(principal, web.Response):
            return principal
        ctx.attribute(principal.name)
        model = request.match_info["model"]
        card = self._agents.route_card(principal, model, ctx.caller_base_url() or "")
        return _card_response(card)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        ctx = call_context(request)
        ctx.speaking("a2a")
        principal = await self._principal(request)
        if isinstance(principal, web.Response):
            return principal
        ctx.attribute(principal.name)
        model = request.match_info.get("model")
        if model:
            self._agents.gateway.route_for(principal, model)  # 404 / 403 before the SDK
        admitted = {
            PRINCIPAL: principal,
            REQUEST_ID: ctx.request_id or uuid.uuid4().hex,
            BASE_URL: ctx.caller_base_url(),
        }
        body = await read_body(request)  # bounded by the listener's body limit (413)
        bridge = AsgiBridge(request, headers={"x-request-id": ctx.request_id}, body=body)
        self._streams.add(bridge)
        try:
            return await bridge.run(self._app, {_SCOPE_STATE: admitted})
        finally:
            self._streams.discard(bridge)

    def end_streams(self) -> None:
        """Graceful shutdown: end open SSE streams (their tasks go on; clients resubscribe)."""
        for bridge in list(self._streams):
            bridge.disconnect()

"""Streamable HTTP at /mcp on lowart's own aiohttp listener (TCP and Unix socket).

Order of checks for every request, before the MCP layer sees it:
1. Origin: a browser page from a non-local origin is refused with 403 (the
   specification's DNS-rebinding defence); extra origins can be allowed in
   settings (`LOWART_MCP_ALLOWED_ORIGINS`, `*` for any).
2. The bearer key, exactly as on the HTTP API: 401 with a JSON error body.
3. Sessions a key may still open: at most `LOWART_MCP_MAX_SESSIONS_PER_KEY`
   at once (429 beyond), so one key cannot take the process-wide cap
   (`LOWART_MCP_MAX_SESSIONS`, the SDK's 503) from every other key; a session
   nobody used for `LOWART_MCP_SESSION_IDLE_SECONDS` ends by itself.
4. The SDK's session manager: sessions (`Mcp-Session-Id`, bound to the key
   that created them, so another key gets 404), SSE streams, resumability
   (`Last-Event-ID`, replayed from an in-memory per-session store) and the
   2026 single-exchange wire.

The manager runs in a task of its own for the listener's lifetime (its anyio
task group must be entered and left in one task); on shutdown the long-lived
GET streams are ended first so in-flight tool calls can drain, then the
manager stops, closing every session.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from mcp.server import ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from lowart.admin import Admin
from lowart.config import Settings
from lowart.errors import AuthenticationFailed, PermissionDenied, RateLimited
from lowart.frontends._web import call_context, error_response, presented_key
from lowart.frontends._web._asgi import AsgiBridge
from lowart.frontends.mcp._events import CURRENT_SESSION, MemoryEventStore, SessionTag
from lowart.frontends.mcp._server import build_server
from lowart.gateway import Gateway
from lowart.toolruns import ToolAccess
from lowart.types import Principal

__all__ = ["McpHttpEndpoint", "origin_allowed"]

log = logging.getLogger("lowart.mcp")

_PRINCIPAL = "lowart.principal"  # ASGI scope key the handlers read the caller from
_BASE_URL = "lowart.base_url"  # and the origin the caller reached lowart at
_MAX_TRACKED_SESSIONS = 10_000
_SHUTDOWN_TIMEOUT = 5.0


async def _principal_from_scope(ctx: ServerRequestContext[Any, Any]) -> Principal:
    request = ctx.request
    principal = request.scope.get(_PRINCIPAL) if request is not None else None
    if not isinstance(principal, Principal):
        raise AuthenticationFailed("This MCP request carries no authenticated key.")
    return principal


def _base_url_from_scope(ctx: ServerRequestContext[Any, Any]) -> str | None:
    request = ctx.request
    return request.scope.get(_BASE_URL) if request is not None else None


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """No Origin (a non-browser client) or a loopback one is fine; others must be listed."""
    if not origin or "*" in allowed or origin in allowed:
        return True
    try:
        host = urlsplit(origin).hostname
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback  # 127/8, ::1
    except ValueError:
        return False


class McpHttpEndpoint:
    def __init__(
        self,
        gateway: Gateway,
        admin: Admin,
        settings: Settings,
        tool_access: ToolAccess | None = None,
    ) -> None:
        self._gateway = gateway
        self.events = MemoryEventStore()
        self.manager = StreamableHTTPSessionManager(
            app=build_server(
                gateway,
                admin,
                _principal_from_scope,
                base_url_for=_base_url_from_scope,
                upstream_tools=tool_access,
            ),
            event_store=self.events,
            # Host and Origin are checked by `handle` (Host cannot be: lowart may be
            # reached under any name); the SDK still checks Content-Type.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            max_request_body_size=settings.max_body_bytes,
            session_idle_timeout=settings.mcp_session_idle_seconds,
            max_sessions=settings.mcp_max_sessions,
        )
        self._idle_seconds = settings.mcp_session_idle_seconds
        self._per_key = settings.mcp_max_sessions_per_key
        self._by_key: dict[int, set[str]] = {}
        self._allowed_origins = settings.mcp_allowed_origins
        self._sessions: OrderedDict[str, SessionTag] = OrderedDict()
        self._streams: set[AsgiBridge] = set()
        self._running: set[asyncio.Future[web.StreamResponse]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._host(ready), name="lowart-mcp-sessions")
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task.done():
            self._task.result()  # the manager failed to start: raise its error

    async def _host(self, ready: asyncio.Event) -> None:
        async with self.manager.run():
            ready.set()
            await self._stop.wait()

    def end_streams(self) -> None:
        """Graceful shutdown, first step: end long-lived GET streams; calls may finish."""
        for bridge in list(self._streams):
            bridge.disconnect()

    async def stop(self) -> None:
        self.end_streams()
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, _SHUTDOWN_TIMEOUT)
            except TimeoutError:
                log.warning("MCP sessions did not close within %.0fs", _SHUTDOWN_TIMEOUT)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ctx = call_context(request)
        ctx.speaking("mcp")
        if not origin_allowed(request.headers.get("Origin"), self._allowed_origins):
            raise PermissionDenied(
                f"Origin '{request.headers['Origin']}' may not use this MCP endpoint. "
                "Allow it with LOWART_MCP_ALLOWED_ORIGINS.",
                code="origin_not_allowed",
            )
        try:
            principal = await self._gateway.authenticate(presented_key(request))
        except AuthenticationFailed as exc:
            refusal = error_response(exc)
            refusal.headers["WWW-Authenticate"] = 'Bearer realm="lowart"'
            return refusal
        ctx.attribute(principal.name)
        presented_session = request.headers.get(MCP_SESSION_ID_HEADER)
        if presented_session is None and request.method == "POST":
            self._admit_session(principal)
        tag = self._session_tag(presented_session)
        bridge = AsgiBridge(request, headers={"x-request-id": ctx.request_id})
        scope = {**_scope_for(principal), _BASE_URL: ctx.caller_base_url()}
        # Shielded: the HTTP listener cancels the handler of a client that hung up,
        # but the SDK ends the whole session when the request carrying it is cancelled
        # (an MCP client closes a POST's stream once it has its answer), and the
        # session must still be counted for its key. MCP cancels calls in the
        # protocol (notifications/cancelled) instead.
        run = asyncio.ensure_future(self._serve(request.method, bridge, tag, scope, principal))
        self._running.add(run)
        run.add_done_callback(self._running.discard)
        return await asyncio.shield(run)

    async def _serve(
        self,
        method: str,
        bridge: AsgiBridge,
        tag: SessionTag,
        scope: dict[str, Any],
        principal: Principal,
    ) -> web.StreamResponse:
        token = CURRENT_SESSION.set(tag)
        if method == "GET":
            self._streams.add(bridge)
        try:
            response = await bridge.run(self.manager.handle_request, scope)
        finally:
            CURRENT_SESSION.reset(token)
            self._streams.discard(bridge)
        self._track_session(tag, method, response, principal.key_id)
        return response

    def _admit_session(self, principal: Principal) -> None:
        """Refuse a key one session more than it may hold (a 429 its client can act on)."""
        owned = self._by_key.get(principal.key_id)
        if not owned:
            return
        live = self._live_session_ids()
        owned.intersection_update(live)  # sessions the SDK ended (idle, closed) are free again
        if len(owned) >= self._per_key:
            raise RateLimited(
                f"This key already has {len(owned)} open MCP sessions, the most one key may "
                "hold. End one (DELETE /mcp with its Mcp-Session-Id) or let idle ones expire "
                f"(after {self._idle_seconds:.0f} s without use).",
                code="too_many_sessions",
                retry_after=min(self._idle_seconds, 60.0),
            )

    def _live_session_ids(self) -> set[str]:
        """Sessions the SDK still holds. It offers no public view, so this reads its
        registry; if a release renames it, nothing is pruned and the cap still holds
        until sessions are deleted (a test pins the behaviour)."""
        instances = getattr(self.manager, "_server_instances", None)
        return set(instances) if isinstance(instances, dict) else set()

    def _session_tag(self, session_id: str | None) -> SessionTag:
        if session_id is None:
            return SessionTag()  # an opening request: the server names the session
        return self._sessions.get(session_id) or SessionTag(session_id)

    def _track_session(
        self, tag: SessionTag, method: str, response: web.StreamResponse, key_id: int
    ) -> None:
        """Learn a new session's id (and its key) from its opening response; forget
        ended ones."""
        session_id = response.headers.get(MCP_SESSION_ID_HEADER)
        if tag.session_id is None and session_id and response.status < 400:
            tag.session_id = session_id
            self._sessions[session_id] = tag
            self._by_key.setdefault(key_id, set()).add(session_id)
            while len(self._sessions) > _MAX_TRACKED_SESSIONS:
                self._sessions.popitem(last=False)
        elif tag.session_id and (response.status == 404 or method == "DELETE"):
            self._sessions.pop(tag.session_id, None)
            owned = self._by_key.get(key_id)
            if owned is not None:
                owned.discard(tag.session_id)
                if not owned:
                    del self._by_key[key_id]


def _scope_for(principal: Principal) -> dict[str, Any]:
    """The caller for the MCP handlers, and the identity the SDK binds sessions to."""
    identity = f"lowart-key-{principal.key_id}"
    token = AccessToken(token=identity, client_id=identity, scopes=[])
    return {_PRINCIPAL: principal, "user": AuthenticatedUser(token)}

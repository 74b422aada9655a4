"""The aiohttp application and its TCP and Unix socket listeners.

The application holds the two services handlers use (the Gateway and Admin);
other surfaces served on the same listener (MCP's streamable HTTP) are mounted
by the composition root through `extensions`, so this frontend imports none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence

from aiohttp import web

from lowart.admin import Admin
from lowart.config import Settings
from lowart.frontends._sockets import prepare_unix_socket_path
from lowart.frontends.http import (
    _admin,
    _admin_tools,
    _anthropic,
    _images,
    _openai,
    _responses,
    _self,
    _tool_confirm,
)
from lowart.frontends.http._errors import request_middleware
from lowart.frontends.http._head_timeout import limit_request_heads
from lowart.frontends.http._metrics import add_metrics_route
from lowart.frontends.http._sessions import SessionStore
from lowart.frontends.http._state import ADMIN, GATEWAY, IN_FLIGHT, SESSIONS, TOOL_LOOP
from lowart.frontends.http._ui import install_ui, session_middleware
from lowart.gateway import Gateway
from lowart.toolruns import ToolLoop

__all__ = ["AppExtension", "HttpListener", "create_app"]

_LISTEN_BACKLOG = 4096
_CANCEL_WAIT = 0.5  # seconds a handler cancelled at shutdown gets to end its response

AppExtension = Callable[[web.Application], None]
"""Adds routes and lifetime hooks to the application (e.g. MCP at /mcp)."""


def create_app(
    gateway: Gateway,
    admin: Admin,
    settings: Settings,
    extensions: Sequence[AppExtension] = (),
    tool_loop: ToolLoop | None = None,
) -> web.Application:
    app = web.Application(
        middlewares=[request_middleware, session_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[GATEWAY] = gateway
    app[ADMIN] = admin
    app[IN_FLIGHT] = set()
    app[SESSIONS] = SessionStore()
    if tool_loop is not None:
        app[TOOL_LOOP] = tool_loop
    app.add_routes(_openai.routes)
    app.add_routes(_anthropic.routes)
    app.add_routes(_responses.routes)
    app.add_routes(_tool_confirm.routes)
    app.add_routes(_admin.routes)
    app.add_routes(_admin_tools.routes)
    app.add_routes(_images.routes)
    add_metrics_route(app, settings.metrics, settings.metrics_token)
    app.add_routes(_self.routes)
    install_ui(app)  # the dashboard at /ui
    for extend in extensions:
        extend(app)
    return app


class HttpListener:
    """HTTP over TCP and/or a Unix socket; the socket file is owner-only and removed on stop."""

    def __init__(
        self,
        gateway: Gateway,
        admin: Admin,
        settings: Settings,
        extensions: Sequence[AppExtension] = (),
        tool_loop: ToolLoop | None = None,
    ) -> None:
        self._tool_loop = tool_loop
        self._gateway = gateway
        self._admin = admin
        self._settings = settings
        self._extensions = extensions
        self._runner: web.AppRunner | None = None
        self._uds: str | None = None
        self.port: int | None = None

    @property
    def addresses(self) -> list[str]:
        found = []
        if self.port is not None:
            found.append(f"http://{self._settings.host}:{self.port}")
        if self._uds:
            found.append(f"unix:{self._uds}")
        return found

    async def start(self) -> None:
        settings = self._settings
        self._runner = web.AppRunner(
            create_app(self._gateway, self._admin, settings, self._extensions, self._tool_loop),
            access_log=None,
            handle_signals=False,
            # `stop` drains for the grace itself; what still runs after it is cancelled
            # (and ends in-band) within this.
            shutdown_timeout=_CANCEL_WAIT,
            # A client that disconnects cancels its handler at once: the upstream call,
            # the ComfyUI prompt and its admission end with it (aiohttp's default only
            # notices at the next write, and never for a non-streamed call).
            handler_cancellation=True,
            # An idle kept-alive connection (or one whose later request head never
            # completes) is closed after this; a request in progress is never cut.
            keepalive_timeout=settings.http_keepalive_timeout,
        )
        await self._runner.setup()
        assert self._runner.server is not None
        limit_request_heads(self._runner.server, settings.http_head_timeout)
        if settings.port is not None:
            site = web.TCPSite(
                self._runner,
                settings.host,
                settings.port,
                reuse_address=True,
                # aiohttp's default (128) made the kernel drop connection attempts in a
                # burst of new streams (bench/capacity.py: 1,810 at 5,000), each then
                # waiting 1-3 s for the client's SYN retry; the kernel caps it at somaxconn.
                backlog=_LISTEN_BACKLOG,
            )
            await site.start()
            self.port = _bound_port(site)
        if settings.uds:
            await self._start_unix(self._runner, settings.uds)

    async def _start_unix(self, runner: web.AppRunner, path: str) -> None:
        prepare_unix_socket_path(path)
        old_umask = os.umask(0o177)  # the socket is born 0600: no window for other users
        try:
            await web.UnixSite(runner, path, backlog=_LISTEN_BACKLOG).start()
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        self._uds = path

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish within the shutdown grace,
        then cancel what is left (a cut stream ends with an in-band error)."""
        runner = self._runner
        if runner is not None:
            for site in list(runner.sites):
                await site.stop()  # no new connections; open ones go on
            if runner.server is not None:
                runner.server.pre_shutdown()  # idle keep-alive connections close now
            await runner.shutdown()  # on_shutdown: MCP ends its long-lived GET streams
            in_flight = runner.app[IN_FLIGHT]
            await self._drain(in_flight, self._settings.shutdown_grace)
            # Cut what outlived the grace ourselves, with a moment to end its response
            # in-band (aiohttp's own cancel closes the connection in the same breath).
            for task in in_flight:
                task.cancel()
            if in_flight:
                await asyncio.wait(set(in_flight), timeout=_CANCEL_WAIT)
            await runner.cleanup()
        if self._uds:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._uds)

    @staticmethod
    async def _drain(in_flight: set[asyncio.Task[object]], grace: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while in_flight and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(in_flight), timeout=left)


def _bound_port(site: web.TCPSite) -> int:
    """The port the site really listens on (the one the OS chose when 0 was asked)."""
    sockets = getattr(site._server, "sockets", None)  # asyncio's or uvloop's Server
    if not sockets:
        raise RuntimeError("the HTTP listener did not bind a socket")
    port: int = sockets[0].getsockname()[1]
    return port

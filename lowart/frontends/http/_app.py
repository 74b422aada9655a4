"""The aiohttp application and its TCP and Unix socket listeners."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from typing import TYPE_CHECKING

from aiohttp import web

from lowart.frontends.http import _admin, _anthropic, _images, _openai
from lowart.frontends.http._errors import request_middleware
from lowart.frontends.http._keys import RUNTIME
from lowart.frontends.http._mcp_mount import mount_mcp

if TYPE_CHECKING:
    from lowart.app import Runtime

__all__ = ["HttpListener", "create_app", "prepare_unix_socket_path"]


def create_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        middlewares=[request_middleware], client_max_size=runtime.settings.max_body_bytes
    )
    app[RUNTIME] = runtime
    app.add_routes(_openai.routes)
    app.add_routes(_anthropic.routes)
    app.add_routes(_admin.routes)
    app.add_routes(_images.routes)
    if runtime.settings.mcp_enabled:
        mount_mcp(app, runtime)
    return app


def prepare_unix_socket_path(path: str) -> None:
    """Remove a stale socket file left by a crash; refuse to steal a live one."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise RuntimeError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise RuntimeError(f"another server is listening on {path}")


class HttpListener:
    """HTTP over TCP and/or a Unix socket; the socket file is owner-only and removed on stop."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._runner: web.AppRunner | None = None
        self._uds: str | None = None
        self.port: int | None = None

    @property
    def addresses(self) -> list[str]:
        found = []
        if self.port is not None:
            found.append(f"http://{self._runtime.settings.host}:{self.port}")
        if self._uds:
            found.append(f"unix:{self._uds}")
        return found

    async def start(self) -> None:
        settings = self._runtime.settings
        self._runner = web.AppRunner(
            create_app(self._runtime),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=settings.shutdown_grace,
        )
        await self._runner.setup()
        if settings.port is not None:
            site = web.TCPSite(self._runner, settings.host, settings.port, reuse_address=True)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked
        if settings.uds:
            await self._start_unix(settings.uds)

    async def _start_unix(self, path: str) -> None:
        prepare_unix_socket_path(path)
        old_umask = os.umask(0o177)  # the socket is born 0600: no window for other users
        try:
            await web.UnixSite(self._runner, path).start()
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        self._uds = path

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._uds:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._uds)

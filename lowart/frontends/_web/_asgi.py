"""Running an ASGI application inside an aiohttp handler.

The `mcp` SDK's streamable HTTP transport and the `a2a` SDK's JSON-RPC and REST
bindings are ASGI applications. Rather than re-implement them,
lowart serves it from its own aiohttp listener through this bridge: the
request becomes an ASGI scope, the body is fed to `receive` as it arrives, and
each `send` is written through at once, so SSE events reach the client as they
are produced. ASGI needs to hear about a client that goes away; aiohttp does
not cancel handlers, so `receive` watches the connection and reports
`http.disconnect` when it closes or when the host asks streams to end
(graceful shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

__all__ = ["AsgiApp", "AsgiBridge"]

log = logging.getLogger("lowart.http")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

# How often a waiting `receive` checks that the client is still connected: soon
# at first, then less often for long-lived streams (a failed write, such as the
# SSE keep-alive ping, notices a vanished client as well).
_FIRST_POLL_SECONDS = 0.1
_MAX_POLL_SECONDS = 2.0
_CLIENT_GONE = (ConnectionResetError, ConnectionError)


def _scope(request: web.Request, extra: dict[str, Any]) -> dict[str, Any]:
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport else None
    sock = transport.get_extra_info("sockname") if transport else None
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.rel_url.raw_path.encode("latin-1"),
        "root_path": "",
        "query_string": request.rel_url.raw_query_string.encode("latin-1"),
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": tuple(peer[:2]) if isinstance(peer, tuple) else None,
        "server": tuple(sock[:2]) if isinstance(sock, tuple) else None,
        "state": {},
        **extra,
    }


class AsgiBridge:
    """One HTTP exchange between an aiohttp request and an ASGI app."""

    def __init__(
        self,
        request: web.Request,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        """`body`: the request body when the caller has read it already (bounded by
        aiohttp's `client_max_size`); otherwise it is streamed from the connection."""
        self._request = request
        self._extra_headers = headers or {}
        self._body = body
        self._response: web.StreamResponse | None = None
        self._body_done = False
        self._finished = False
        self._gone = asyncio.Event()  # the client left, or the host ends the stream

    def disconnect(self) -> None:
        """Tell the application its client is gone (used to end streams on shutdown)."""
        self._gone.set()

    async def run(self, app: AsgiApp, extra_scope: dict[str, Any]) -> web.StreamResponse:
        await app(_scope(self._request, extra_scope), self._receive, self._send)
        if self._response is None:
            if self._gone.is_set():  # the client left before there was anything to say
                return web.Response(status=499)
            raise RuntimeError("the ASGI application returned without a response")
        if not self._finished and not self._gone.is_set():
            with contextlib.suppress(*_CLIENT_GONE):
                await self._response.write_eof()
        return self._response

    async def _receive(self) -> Message:
        if not self._body_done and self._body is not None:
            self._body_done = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        if not self._body_done:
            try:
                chunk = await self._request.content.readany()
            except _CLIENT_GONE:
                self._gone.set()
                return {"type": "http.disconnect"}
            more = not self._request.content.at_eof()
            self._body_done = not more
            return {"type": "http.request", "body": chunk, "more_body": more}
        interval = _FIRST_POLL_SECONDS
        while not self._gone.is_set() and not self._client_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), interval)
            interval = min(interval * 2, _MAX_POLL_SECONDS)
        return {"type": "http.disconnect"}

    def _client_closed(self) -> bool:
        transport = self._request.transport
        return self._finished or transport is None or transport.is_closing()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers: CIMultiDict[str] = CIMultiDict()
            for name, value in message.get("headers", ()):
                headers.add(name.decode("latin-1"), value.decode("latin-1"))
            headers.update(self._extra_headers)
            self._response = web.StreamResponse(status=message["status"], headers=headers)
            await self._write(self._response.prepare(self._request))
        elif kind == "http.response.body":
            if self._response is None:
                raise RuntimeError("ASGI body sent before the response started")
            body = message.get("body", b"")
            if body:
                await self._write(self._response.write(body))
            if not message.get("more_body", False):
                self._finished = True
                await self._write(self._response.write_eof())

    async def _write(self, operation: Awaitable[Any]) -> None:
        """Write through; a vanished client becomes `http.disconnect`, never an exception."""
        if self._gone.is_set():
            if asyncio.iscoroutine(operation):
                operation.close()
            return
        try:
            await operation
        except _CLIENT_GONE:
            log.debug("client went away mid-response")
            self._gone.set()

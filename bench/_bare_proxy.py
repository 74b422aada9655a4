"""Bare aiohttp pass-through proxy: the practical floor for a Python gateway.

No auth, no accounting, no routing: one shared ``ClientSession`` that forwards
the body and streams the answer back chunk by chunk.  Whatever lowart costs
beyond this is lowart's own overhead, not aiohttp's.

Usage: ``python bench/_bare_proxy.py PORT UPSTREAM_URL``
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web

HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding"}


async def _forward(request: web.Request) -> web.StreamResponse:
    """POST the body upstream and relay status, headers and body chunks."""
    session: aiohttp.ClientSession = request.app["session"]
    body = await request.read()
    headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
    async with session.post(
        request.app["upstream"] + request.path, data=body, headers=headers
    ) as up:
        out = web.StreamResponse(status=up.status)
        out.headers.update({k: v for k, v in up.headers.items() if k.lower() not in HOP_HEADERS})
        if up.content_length is not None:
            out.content_length = up.content_length
        try:
            await out.prepare(request)
            async for chunk in up.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
        except ConnectionResetError:
            pass  # the load generator hung up mid-response (end of a wrk run)
        return out


async def _health(_: web.Request) -> web.Response:
    """Readiness probe for the benchmark driver."""
    return web.Response(text="ok")


async def _session_ctx(app: web.Application):
    """Own one keep-alive ClientSession for the app's lifetime."""
    app["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    yield
    await app["session"].close()


def main() -> None:
    """Entry point: ``_bare_proxy.py PORT UPSTREAM_URL`` (URL without path)."""
    app = web.Application()
    app["upstream"] = sys.argv[2].rstrip("/")
    app.cleanup_ctx.append(_session_ctx)
    app.router.add_post("/v1/chat/completions", _forward)
    app.router.add_get("/health", _health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()

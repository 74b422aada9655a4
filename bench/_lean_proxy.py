"""The bare pass-through again, but calling upstream with lowart's own HTTP client.

`_bare_proxy.py` is the brief's reference (aiohttp server and aiohttp client).
lowart calls upstreams through `lowart.upstream`, which costs far less CPU per
request than aiohttp's client, so beating the bare proxy says little about
lowart's own overhead. This proxy has exactly lowart's I/O (aiohttp server,
lowart.upstream client, body relayed chunk by chunk) and nothing else: the gap
between it and lowart is what auth, routing, accounting and logging cost.

Usage: ``python bench/_lean_proxy.py PORT UPSTREAM_URL``
"""

from __future__ import annotations

import sys

from aiohttp import web

from lowart.upstream import UpstreamClient

CLIENT = web.AppKey("client", UpstreamClient)
UPSTREAM = web.AppKey("upstream", str)


async def _forward(request: web.Request) -> web.StreamResponse:
    """POST the body upstream and relay status and body chunks."""
    body = await request.read()
    headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
    async with request.app[CLIENT].post(request.app[UPSTREAM] + request.path, body, headers) as up:
        out = web.StreamResponse(status=up.status)
        content_type = up.header("content-type")
        if content_type:
            out.headers["Content-Type"] = content_type
        try:
            await out.prepare(request)
            while (chunk := await up.next_chunk()) is not None:
                await out.write(chunk)
            await out.write_eof()
        except ConnectionResetError:
            pass  # the load generator hung up mid-response (end of a wrk run)
        return out


async def _health(_: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _client_ctx(app: web.Application):
    app[CLIENT] = UpstreamClient()
    yield
    await app[CLIENT].close()


def main() -> None:
    """Entry point: ``_lean_proxy.py PORT UPSTREAM_URL`` (URL without path)."""
    app = web.Application()
    app[UPSTREAM] = sys.argv[2].rstrip("/")
    app.cleanup_ctx.append(_client_ctx)
    app.router.add_post("/v1/chat/completions", _forward)
    app.router.add_get("/health", _health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()

"""A loopback OTLP/HTTP collector for the benchmark: takes POST /v1/traces and answers
200 with an empty ExportTraceServiceResponse (it does not decode; the tests do that).

Run: ``python bench/_otlp_sink.py PORT``; GET /stats gives posts and bytes received.
"""

from __future__ import annotations

import sys

from aiohttp import web

_stats = {"posts": 0, "bytes": 0}


async def traces(request: web.Request) -> web.Response:
    body = await request.read()
    _stats["posts"] += 1
    _stats["bytes"] += len(body)
    return web.Response(body=b"", content_type="application/x-protobuf")


async def health(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def stats(_request: web.Request) -> web.Response:
    return web.json_response(_stats)


def main() -> None:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/traces", traces)
    app.router.add_get("/health", health)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()

"""Bare protocol servers for bench/grpc_overhead.py: the floor each stack costs.

They answer every call with a pre-encoded copy of what the gateway's `mock`
model returns (same bytes, same number of stream messages) and do nothing
else, so `gateway latency - bare latency` is what lowart adds on top of the
protocol stack itself (aiohttp for HTTP, grpc.aio for gRPC).
"""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from aiohttp import web

from lowart._proto import chat_pb2_grpc
from lowart.frontends.grpc._encode import chat_response, stream_response

__all__ = ["start_bare_grpc", "start_bare_http"]


async def start_bare_http(response: dict[str, Any], chunks: list[dict[str, Any]]) -> int:
    unary_body = orjson.dumps(response)
    events = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]

    async def chat(request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        if not body.get("stream"):
            return web.Response(body=unary_body, content_type="application/json")
        reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await reply.prepare(request)
        for event in events:
            await reply.write(event)
        await reply.write_eof()
        return reply

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return site._server.sockets[0].getsockname()[1]


class _BareChat(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, response: dict[str, Any], chunks: list[dict[str, Any]]) -> None:
        self._response = chat_response(response)
        self._messages = [stream_response(c) for c in chunks]

    async def CreateChatCompletion(self, request, context):
        return self._response

    async def StreamChatCompletion(self, request, context):
        for message in self._messages:
            await context.write(message)


async def start_bare_grpc(
    response: dict[str, Any], chunks: list[dict[str, Any]], uds: str, options: list
) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server(options=options)
    chat_pb2_grpc.add_ChatServiceServicer_to_server(_BareChat(response, chunks), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.add_insecure_port(f"unix:{uds}")
    await server.start()
    return server, port

"""Latency A2A adds: one SendMessage on the mock model next to the same chat over HTTP.

Every interface runs in this one process's run against the same gateway, so the
numbers compare paths rather than measure absolute speed (client and server share
this machine). Each A2A SendMessage is a whole task: created, worked, its answer
streamed into an artifact, completed, and written to the database (a few rows
each), so the difference to a plain chat is mostly those writes and the SDK's
task machinery. `raw` rows post the JSON-RPC body with httpx, without the
a2a-sdk client's own cost.

Run: `PYTHONPATH=. .venv/bin/python bench/a2a_overhead.py [N]` (not `a2a.py`: a script of
that name would shadow the `a2a` package it imports).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import httpx
import openai
from a2a.client import A2ACardResolver, ClientCallContext, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest

from tests.support.servers import GatewayHandle, LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_for

PROMPT = "hi"


async def timed(n: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    await call()  # warm the connection and caches
    seconds = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - start)
    return seconds


async def openai_http(handle: GatewayHandle, n: int) -> list[float]:
    client = openai.AsyncOpenAI(
        base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0
    )
    try:
        return await timed(
            n,
            lambda: client.chat.completions.create(
                model="mock", messages=[{"role": "user", "content": PROMPT}]
            ),
        )
    finally:
        await client.close()


async def a2a_sdk(handle: GatewayHandle, n: int, binding: str) -> list[float]:
    auth = {"Authorization": f"Bearer {handle.admin_key}"}
    async with httpx.AsyncClient(headers=auth, timeout=30) as http:
        card = await A2ACardResolver(http, f"{handle.base_url}/a2a/mock").get_agent_card()
        config = ClientConfig(
            streaming=False,
            httpx_client=http,
            supported_protocol_bindings=[binding],
            grpc_channel_factory=grpc.aio.insecure_channel,
        )
        client = ClientFactory(config).create(card)
        ctx = ClientCallContext(service_parameters={"authorization": auth["Authorization"]})

        async def send() -> None:
            message = Message(
                message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text=PROMPT)]
            )
            async for _ in client.send_message(SendMessageRequest(message=message), context=ctx):
                pass

        try:
            return await timed(n, send)
        finally:
            await client.close()


async def a2a_raw_jsonrpc(handle: GatewayHandle, n: int) -> list[float]:
    headers = {"Authorization": f"Bearer {handle.admin_key}", "A2A-Version": "1.0"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:

        async def send() -> None:
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {
                    "message": {
                        "messageId": uuid.uuid4().hex,
                        "role": "ROLE_USER",
                        "parts": [{"text": PROMPT}],
                    }
                },
            }
            response = await http.post(f"{handle.base_url}/a2a/mock", json=body)
            assert "result" in response.json(), response.text

        return await timed(n, send)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    loop = LoopThread()
    handle = start_gateway(loop, settings_for(Path(tempfile.mkdtemp())))

    async def start_grpc() -> None:
        handle.grpc = handle.runtime.grpc_listener()
        assert handle.grpc is not None
        await handle.grpc.start()

    handle.run(start_grpc())
    try:
        runs = {
            "openai http (chat)": lambda: openai_http(handle, n),
            "a2a JSON-RPC (raw httpx)": lambda: a2a_raw_jsonrpc(handle, n),
            "a2a JSON-RPC (a2a-sdk)": lambda: a2a_sdk(handle, n, "JSONRPC"),
            "a2a HTTP+JSON (a2a-sdk)": lambda: a2a_sdk(handle, n, "HTTP+JSON"),
            "a2a gRPC TCP (a2a-sdk)": lambda: a2a_sdk(handle, n, "GRPC"),
        }
        base = None
        print(f"mock model, {n} sequential calls each, one gateway, one run")
        for name, run in runs.items():
            seconds = sorted(asyncio.run(run()))
            p50, p90 = statistics.median(seconds), seconds[int(len(seconds) * 0.9)]
            base = base if base is not None else p50
            added = f"+{(p50 - base) * 1000:.2f}" if name != "openai http (chat)" else "     "
            print(
                f"{name:26s} p50 {p50 * 1000:6.2f} ms   p90 {p90 * 1000:6.2f} ms   "
                f"added p50 {added} ms"
            )
    finally:
        stop_gateway(handle)
        loop.stop()


if __name__ == "__main__":
    main()

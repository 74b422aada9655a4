"""Latency of one `chat` call on the mock model: OpenAI HTTP API vs MCP (both wires).

Client and server share this machine, so the numbers compare paths rather than
measure absolute speed. Run: `PYTHONPATH=. .venv/bin/python bench/mcp_overhead.py [N]`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openai

from tests.support.mcp_client import http_client
from tests.support.servers import LoopThread, start_gateway, stop_gateway, test_settings

MESSAGE = {"role": "user", "content": "hi"}


async def openai_http(base_url: str, key: str, n: int) -> list[float]:
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)
    seconds = []
    for _ in range(n):
        start = time.perf_counter()
        await client.chat.completions.create(model="mock", messages=[MESSAGE])
        seconds.append(time.perf_counter() - start)
    await client.close()
    return seconds


async def mcp(base_url: str, key: str, n: int, mode: str) -> list[float]:
    seconds = []
    async with http_client(base_url + "/mcp", key, mode=mode) as client:
        await client.list_tools()
        for _ in range(n):
            start = time.perf_counter()
            await client.call_tool("chat", {"model": "mock", "prompt": "hi"})
            seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    loop = LoopThread()
    handle = start_gateway(loop, test_settings(Path(tempfile.mkdtemp())))
    try:
        runs = {
            "openai http": openai_http(handle.base_url, handle.admin_key, n),
            "mcp 2025-11-25 (sessions)": mcp(handle.base_url, handle.admin_key, n, "legacy"),
            "mcp 2026-07-28": mcp(handle.base_url, handle.admin_key, n, "auto"),
        }
        for name, run in runs.items():
            seconds = sorted(asyncio.run(run))
            p50, p90 = statistics.median(seconds), seconds[int(len(seconds) * 0.9)]
            print(f"{name:28s} p50 {p50 * 1000:6.2f} ms   p90 {p90 * 1000:6.2f} ms   n={n}")
    finally:
        stop_gateway(handle)
        loop.stop()


if __name__ == "__main__":
    main()

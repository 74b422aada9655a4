"""CPU per SSE event written by ``EventSender``: straight to the transport vs aiohttp's writer.

A real aiohttp server on loopback streams ``--events`` events to a ``curl``
reader, one flush per event (what a slow stream does), and measures the
handler's own thread CPU time over the writes. Rounds alternate between the
direct path and a sender that keeps writing through aiohttp's
``StreamResponse.write``; the minimum of the rounds is robust to a shared
machine. Both paths write exactly the same bytes.

Run: ``PYTHONPATH=$PWD .venv/bin/python bench/event_write.py [--rounds 8]``
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time

from aiohttp import web
from aiohttp.http import StreamWriter

from lowart.frontends.http._coalesce import EventSender

EVENT = (
    b'data: {"id":"chatcmpl-slow","object":"chat.completion.chunk","created":1700000000,'
    b'"model":"bench-model","choices":[{"index":0,"delta":{"content":" w"},'
    b'"finish_reason":null}]}\n\n'
)


class ThroughAiohttp(EventSender):
    """Every write through aiohttp's writer (the behaviour before the direct path)."""

    def _direct_writer(self) -> StreamWriter | None:
        return None


async def measure(rounds: int, events: int) -> dict[str, list[float]]:
    """Per-event CPU (µs) of each round, by path."""
    results: dict[str, list[float]] = {"direct": [], "aiohttp": []}
    path = ["direct"]

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        sender = (EventSender if path[0] == "direct" else ThroughAiohttp)(response)
        await sender.prepare(request)
        started = time.thread_time()
        for _ in range(events):
            sender.add(EVENT)
            await sender.flush()
        results[path[0]].append((time.thread_time() - started) / events * 1e6)
        await sender.finish()
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        for _ in range(rounds):
            for name in ("direct", "aiohttp"):
                path[0] = name
                curl = await asyncio.create_subprocess_exec("curl", "-s", "-o", "/dev/null", url)
                await curl.wait()
    finally:
        await runner.cleanup()
    return results


def main() -> None:
    """Print min and median µs per event of both paths."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--events", type=int, default=20_000)
    a = ap.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed as the reader")
    for name, values in asyncio.run(measure(a.rounds, a.events)).items():
        ordered = sorted(values)
        print(f"{name:8} min {ordered[0]:.2f} us/event, median {ordered[len(ordered) // 2]:.2f}")


if __name__ == "__main__":
    main()

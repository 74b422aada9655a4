"""What recording metrics adds to one request inside the engine, in CPU µs.

Two gateways in one process, one with `LOWART_METRICS=off` and one with
metrics on, each serving the built-in mock model through `Gateway.complete`
between `begin_request` and `end_request` (what every frontend calls), in
interleaved batches; the CPU time of each batch (`time.process_time`) gives
µs per request. No network and no HTTP server: this isolates lowart's own
recording from the noise of a shared machine, which `overhead.py --telemetry`
measures end to end.

Run: ``.venv/bin/python bench/telemetry_recording.py [--batches 20] [--batch 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from lowart.app import Runtime
from lowart.config import Settings
from lowart.types import CallContext

BODY = {"model": "mock", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}
STREAM_BODY = {
    "model": "mock",
    "messages": [{"role": "user", "content": "one two three four five six seven eight"}],
    "stream": True,
}
STREAM = False  # --stream: mock streams through Gateway.open_stream instead


async def open_runtime(tmp: Path, metrics: str) -> tuple[Runtime, object]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / (metrics + '.db')}",
        secret_key="bench",
        data_dir=tmp / metrics,
        usage_journal=False,
    )
    runtime = await Runtime.open(replace(settings, metrics=metrics), background=False)
    key, _ = await runtime.admin.create_key("bench")
    return runtime, await runtime.authenticator.authenticate(key)


async def batch(runtime: Runtime, principal: object, count: int) -> float:
    gateway = runtime.gateway
    started = time.process_time()
    for number in range(count):
        ctx = CallContext(request_id=f"r{number}", interface="http")
        gateway.begin_request(ctx, "POST /v1/chat/completions")
        if STREAM:
            opened = await gateway.open_stream(principal, dict(STREAM_BODY), ctx)  # type: ignore[arg-type]
            async with opened as stream:
                async for _chunk in stream:
                    pass
        else:
            await gateway.complete(principal, dict(BODY), ctx)  # type: ignore[arg-type]
        gateway.end_request(ctx, 200)
    spent = time.process_time() - started
    await runtime.usage_writer.flush()  # the database's share stays out of the batch
    return spent / count * 1e6


async def main(batches: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        off = await open_runtime(tmp, "off")
        on = await open_runtime(tmp, "admin")
        try:
            for runtime, principal in (off, on):
                await batch(runtime, principal, size)  # warm-up
            results: dict[str, list[float]] = {"off": [], "on": []}
            for number in range(batches):  # which one goes first alternates
                order = (("off", off), ("on", on)) if number % 2 else (("on", on), ("off", off))
                for name, (runtime, principal) in order:
                    results[name].append(await batch(runtime, principal, size))
        finally:
            await off[0].close()
            await on[0].close()
    calls = recording_calls()
    med_off, med_on = statistics.median(results["off"]), statistics.median(results["on"])
    deltas = sorted(b - a for a, b in zip(results["off"], results["on"], strict=True))
    what = "streams" if STREAM else "completions"
    print(f"{batches} interleaved batches of {size} mock {what}, CPU µs per request (median)")
    print(f"  metrics off  {med_off:8.1f}")
    print(f"  metrics on   {med_on:8.1f}   ratio {med_on / med_off:.3f}")
    print(
        f"  added by recording: median {statistics.median(deltas):.1f} µs "
        f"(batch pairs: min {deltas[0]:.1f}, max {deltas[-1]:.1f})"
    )
    print(
        f"  the recording calls of one request alone: {calls:.2f} µs "
        f"({calls / med_off:.1%} of the engine's CPU per request with metrics off)"
    )


def recording_calls(count: int = 200_000) -> float:
    """CPU µs of exactly the Metrics calls one routed chat completion makes (best of 5)."""
    from lowart.telemetry import Metrics

    metrics = Metrics()

    def one() -> None:
        metrics.request_started()
        metrics.attempt("bench-model", 1, "ok")
        metrics.usage("bench-model", "openai", "http", "bench", (9, 12, 0, 0), None, None)
        metrics.request_finished("http", "bench-model", "openai", 200, None, "bench", 0.0004)

    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(count):
            one()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--stream", action="store_true", help="mock streams instead of completions")
    a = ap.parse_args()
    STREAM = a.stream
    asyncio.run(main(a.batches, a.batch))

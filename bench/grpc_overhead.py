"""What the gateway adds, per interface: HTTP over TCP vs gRPC over TCP and a Unix socket.

One run starts a gateway in a child process (so client and server do not
share a GIL) with HTTP and gRPC listeners, and drives the built-in `mock`
model, which answers in-process with no network: the latency measured is the
gateway's own (protocol, auth, routing, accounting) plus the client library's.
For each interface it reports unary latency (p50/p95) and throughput at a given
concurrency, and for streams the time to first message, total time and
streams per second. No thresholds; compare the rows.

    .venv/bin/python bench/grpc_overhead.py [--requests 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import grpc
import orjson

from lowart._proto import chat_pb2, chat_pb2_grpc

PROMPT = "Summarise the benefits of Unix domain sockets in one sentence."


@dataclass(frozen=True)
class Endpoints:
    http: str
    grpc_tcp: str
    grpc_uds: str
    key: str


def _serve(workdir: str, ready: multiprocessing.Queue) -> None:
    """The child process: a gateway with HTTP on TCP and gRPC on TCP and UDS."""
    from lowart.app import Runtime
    from lowart.config import Settings
    from lowart.frontends.grpc import GrpcListener
    from lowart.frontends.http import HttpListener

    async def main() -> None:
        settings = replace(
            Settings(),
            database_url=f"sqlite+aiosqlite:///{workdir}/bench.db",
            port=0,
            secret_key="bench",
            secret_key_file=Path(workdir) / "bench.key",
            bootstrap_admin=False,
        )
        runtime = await Runtime.open(settings)
        key, _ = await runtime.admin.create_key("bench")
        await runtime.reload()
        http = HttpListener(runtime)
        await http.start()
        uds = os.path.join(workdir, "grpc.sock")
        grpc_listener = GrpcListener(runtime, address="127.0.0.1:0", uds=uds)
        await grpc_listener.start()
        ready.put(
            Endpoints(
                http=f"http://127.0.0.1:{http.port}",
                grpc_tcp=f"127.0.0.1:{grpc_listener.port}",
                grpc_uds=f"unix://{uds}",
                key=key,
            )
        )
        await asyncio.Event().wait()  # until the parent terminates us

    asyncio.run(main())


Call = Callable[[], Awaitable[tuple[float, float]]]  # -> (first message, total) seconds


def _http_calls(session: aiohttp.ClientSession, base: str, key: str) -> tuple[Call, Call]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    messages = [{"role": "user", "content": PROMPT}]
    unary_body = orjson.dumps({"model": "mock", "messages": messages})
    stream_body = orjson.dumps({"model": "mock", "messages": messages, "stream": True})
    url = base + "/v1/chat/completions"

    async def unary() -> tuple[float, float]:
        started = time.perf_counter()
        async with session.post(url, data=unary_body, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status
        elapsed = time.perf_counter() - started
        return elapsed, elapsed

    async def stream() -> tuple[float, float]:
        started = time.perf_counter()
        first = 0.0
        async with session.post(url, data=stream_body, headers=headers) as response:
            assert response.status == 200, response.status
            async for line in response.content:
                if line.startswith(b"data:") and not first:
                    first = time.perf_counter() - started
        return first, time.perf_counter() - started

    return unary, stream


def _grpc_calls(channel: grpc.aio.Channel, key: str) -> tuple[Call, Call]:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    metadata = (("authorization", f"Bearer {key}"),)
    message = chat_pb2.Message(role=chat_pb2.ROLE_USER, content=PROMPT)
    unary_request = chat_pb2.CreateChatCompletionRequest(model="mock", messages=[message])
    stream_request = chat_pb2.StreamChatCompletionRequest(model="mock", messages=[message])

    async def unary() -> tuple[float, float]:
        started = time.perf_counter()
        await stub.CreateChatCompletion(unary_request, metadata=metadata)
        elapsed = time.perf_counter() - started
        return elapsed, elapsed

    async def stream() -> tuple[float, float]:
        started = time.perf_counter()
        first = 0.0
        async for _ in stub.StreamChatCompletion(stream_request, metadata=metadata):
            if not first:
                first = time.perf_counter() - started
        return first, time.perf_counter() - started

    return unary, stream


@dataclass
class Result:
    latency_p50_ms: float
    latency_p95_ms: float
    first_p50_ms: float
    per_second: float


async def _latencies(calls: dict[str, Call], requests: int) -> dict[str, list[tuple[float, float]]]:
    """Sequential calls, interleaved across interfaces, so a busy moment on a
    shared machine hits every interface alike instead of skewing one row."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
    for _ in range(requests):
        for name, call in calls.items():
            samples[name].append(await call())
    return samples


async def _throughput(
    calls: dict[str, Call], requests: int, concurrency: int, rounds: int = 4
) -> dict[str, float]:
    per_worker = max(1, requests // concurrency // rounds)
    done = dict.fromkeys(calls, 0)
    spent = dict.fromkeys(calls, 0.0)

    async def worker(call: Call) -> None:
        for _ in range(per_worker):
            await call()

    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            await asyncio.gather(*(worker(call) for _ in range(concurrency)))
            spent[name] += time.perf_counter() - started
            done[name] += per_worker * concurrency
    return {name: done[name] / spent[name] for name in calls}


async def _measure(calls: dict[str, Call], requests: int, concurrency: int) -> dict[str, Result]:
    await _latencies(calls, max(20, requests // 10))  # warm up connections and caches
    samples = await _latencies(calls, requests)
    rates = await _throughput(calls, requests, concurrency)
    results = {}
    for name, pairs in samples.items():
        totals = sorted(total for _, total in pairs)
        results[name] = Result(
            latency_p50_ms=statistics.median(totals) * 1000,
            latency_p95_ms=totals[int(len(totals) * 0.95) - 1] * 1000,
            first_p50_ms=statistics.median(first for first, _ in pairs) * 1000,
            per_second=rates[name],
        )
    return results


async def _bench(endpoints: Endpoints, requests: int, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        grpc.aio.insecure_channel(endpoints.grpc_tcp) as tcp,
        grpc.aio.insecure_channel(endpoints.grpc_uds) as uds,
    ):
        pairs = {
            "HTTP/SSE over TCP": _http_calls(session, endpoints.http, endpoints.key),
            "gRPC over TCP": _grpc_calls(tcp, endpoints.key),
            "gRPC over UDS": _grpc_calls(uds, endpoints.key),
        }
        unary = await _measure({n: p[0] for n, p in pairs.items()}, requests, concurrency)
        stream = await _measure({n: p[1] for n, p in pairs.items()}, requests, concurrency)
    _print([(name, unary[name], stream[name]) for name in pairs], requests, concurrency)


def _print(rows: list[tuple[str, Result, Result]], requests: int, concurrency: int) -> None:
    print(
        f"mock model, {requests} sequential calls for latency, "
        f"{concurrency} concurrent callers for throughput, ms unless noted\n"
    )
    header = (
        f"{'interface':<20}{'unary p50':>11}{'unary p95':>11}{'unary/s':>10}"
        f"{'stream 1st p50':>16}{'stream p50':>12}{'stream p95':>12}{'streams/s':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, unary, stream in rows:
        print(
            f"{name:<20}{unary.latency_p50_ms:>11.2f}{unary.latency_p95_ms:>11.2f}"
            f"{unary.per_second:>10.0f}{stream.first_p50_ms:>16.2f}"
            f"{stream.latency_p50_ms:>12.2f}{stream.latency_p95_ms:>12.2f}"
            f"{stream.per_second:>11.0f}"
        )
    base = rows[0][1].latency_p50_ms
    print()
    for name, unary, _ in rows[1:]:
        print(f"{name}: unary p50 {unary.latency_p50_ms - base:+.2f} ms vs HTTP over TCP")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="lowart-bench-") as workdir:
        ready = context.Queue()
        server = context.Process(target=_serve, args=(workdir, ready), daemon=True)
        server.start()
        try:
            endpoints = ready.get(timeout=60)
            asyncio.run(_bench(endpoints, args.requests, args.concurrency))
        finally:
            server.terminate()
            server.join(10)


if __name__ == "__main__":
    main()

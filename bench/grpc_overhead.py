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
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import orjson

from lowart._proto import chat_pb2, chat_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bare import start_bare_grpc, start_bare_http

PROMPT = "Summarise the benefits of Unix domain sockets in one sentence."


@dataclass(frozen=True)
class Endpoints:
    http: str
    grpc_tcp: str
    grpc_uds: str
    bare_http: str
    bare_grpc_tcp: str
    bare_grpc_uds: str
    key: str


def _serve(workdir: str, ready: multiprocessing.Queue) -> None:
    """The child process: the gateway (HTTP on TCP, gRPC on TCP and UDS) and the
    bare reference servers, all on one event loop as in production."""
    from lowart.app import Runtime
    from lowart.config import Settings
    from lowart.frontends.grpc import GrpcListener, server_options
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
        response, chunks = await _mock_answers(runtime, key)
        bare_http = await start_bare_http(response, chunks)
        bare_uds = os.path.join(workdir, "bare.sock")
        _server, bare_grpc = await start_bare_grpc(
            response, chunks, bare_uds, server_options(settings)
        )
        ready.put(
            Endpoints(
                http=f"http://127.0.0.1:{http.port}",
                grpc_tcp=f"127.0.0.1:{grpc_listener.port}",
                grpc_uds=f"unix://{uds}",
                bare_http=f"http://127.0.0.1:{bare_http}",
                bare_grpc_tcp=f"127.0.0.1:{bare_grpc}",
                bare_grpc_uds=f"unix://{bare_uds}",
                key=key,
            )
        )
        await asyncio.Event().wait()  # until the parent terminates us

    asyncio.run(main())


async def _mock_answers(runtime: Any, key: str) -> tuple[dict, list[dict]]:
    """What the mock model answers to PROMPT, whole and streamed (with usage)."""
    from lowart.types import CallContext

    gateway = runtime.gateway
    principal = await gateway.authenticate(key)
    body = {"model": "mock", "messages": [{"role": "user", "content": PROMPT}]}
    response = await gateway.complete(principal, dict(body), CallContext("warm", "bench"))
    streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
    async with await gateway.open_stream(principal, streamed, CallContext("warm", "bench")) as s:
        chunks = [dict(chunk) async for chunk in s]
    return dict(response), chunks


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


INTERFACES = ("HTTP/SSE over TCP", "gRPC over TCP", "gRPC over UDS")


async def _bench(endpoints: Endpoints, requests: int, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        grpc.aio.insecure_channel(endpoints.grpc_tcp) as tcp,
        grpc.aio.insecure_channel(endpoints.grpc_uds) as uds,
        grpc.aio.insecure_channel(endpoints.bare_grpc_tcp) as bare_tcp,
        grpc.aio.insecure_channel(endpoints.bare_grpc_uds) as bare_uds,
    ):
        key = endpoints.key
        pairs = {
            INTERFACES[0]: _http_calls(session, endpoints.http, key),
            INTERFACES[1]: _grpc_calls(tcp, key),
            INTERFACES[2]: _grpc_calls(uds, key),
            "bare " + INTERFACES[0]: _http_calls(session, endpoints.bare_http, key),
            "bare " + INTERFACES[1]: _grpc_calls(bare_tcp, key),
            "bare " + INTERFACES[2]: _grpc_calls(bare_uds, key),
        }
        unary = await _measure({n: p[0] for n, p in pairs.items()}, requests, concurrency)
        stream = await _measure({n: p[1] for n, p in pairs.items()}, requests, concurrency)
    _print(unary, stream, requests, concurrency)


def _print(
    unary: dict[str, Result], stream: dict[str, Result], requests: int, concurrency: int
) -> None:
    print(
        f"mock model; latency from {requests} sequential calls per interface (interleaved), "
        f"throughput with {concurrency} concurrent callers.\n"
        "'added' = through the gateway minus a bare server of the same stack sending the "
        "same bytes (milliseconds, p50).\n"
    )
    header = (
        f"{'interface':<20}{'unary p50':>10}{'p95':>7}{'added':>8}{'unary/s':>9}"
        f"{'stream p50':>12}{'p95':>7}{'added':>8}{'1st msg':>9}{'streams/s':>11}"
    )
    print(header)
    print("-" * len(header))
    for name in INTERFACES:
        u, s, bu, bs = unary[name], stream[name], unary["bare " + name], stream["bare " + name]
        print(
            f"{name:<20}{u.latency_p50_ms:>10.2f}{u.latency_p95_ms:>7.2f}"
            f"{u.latency_p50_ms - bu.latency_p50_ms:>+8.2f}{u.per_second:>9.0f}"
            f"{s.latency_p50_ms:>12.2f}{s.latency_p95_ms:>7.2f}"
            f"{s.latency_p50_ms - bs.latency_p50_ms:>+8.2f}{s.first_p50_ms:>9.2f}"
            f"{s.per_second:>11.0f}"
        )
    print("\nbare servers (the protocol stacks' own floor):")
    for name in INTERFACES:
        u, s = unary["bare " + name], stream["bare " + name]
        print(
            f"  {name:<20} unary p50 {u.latency_p50_ms:.2f} ms ({u.per_second:.0f}/s), "
            f"stream p50 {s.latency_p50_ms:.2f} ms ({s.per_second:.0f}/s)"
        )


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

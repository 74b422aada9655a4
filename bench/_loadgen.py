"""Closed-loop HTTP/1.1 load generator used by ``bench/overhead.py``.

Used for every streaming measurement (wrk cannot report time-to-first-byte)
and as the non-streaming fallback when ``wrk`` is not installed.  It speaks
raw keep-alive HTTP/1.1 over asyncio and parses responses with ``httptools``
instead of using aiohttp's client: the client shares core 1 with the upstream,
so it has to be cheap enough not to become the thing we measure.

Each of ``--concurrency`` workers owns one connection and sends requests back
to back until ``--duration`` elapses.  The result is one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

REQUEST_TIMEOUT_S = 30.0


@dataclass
class Stats:
    """Raw samples collected by all workers (seconds)."""

    latencies: list[float] = field(default_factory=list)
    ttfbs: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class ClientConn(asyncio.Protocol):
    """One keep-alive connection; ``request`` sends and awaits a full response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.first_body: float | None = None
        self.body: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Store the transport for writes."""
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail an in-flight request; the worker will reconnect."""
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        """Feed bytes to the parser; protocol errors fail the request."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(exc)
            if self.transport is not None:
                self.transport.close()

    def on_body(self, body: bytes) -> None:
        """Timestamp the first body byte: that is the TTFB we report."""
        if self.first_body is None:
            self.first_body = time.perf_counter()
        self.body.append(body)

    def on_message_complete(self) -> None:
        """Wake the waiting worker."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def request(self, raw: bytes) -> tuple[int, bytes, float | None]:
        """Send ``raw`` and return (status, body, first-body-byte time)."""
        assert self.transport is not None
        self.first_body = None
        self.body = []
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        await asyncio.wait_for(self.waiter, REQUEST_TIMEOUT_S)
        return self.parser.get_status_code(), b"".join(self.body), self.first_body


def build_request(url: str, body: bytes, headers: list[str]) -> tuple[str, int, bytes]:
    """Pre-render the request bytes once so the hot loop only writes."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def worker(host: str, port: int, raw: bytes, deadline: float, stats: Stats) -> None:
    """Send requests back to back on one connection until the deadline."""
    loop = asyncio.get_running_loop()
    conn: ClientConn | None = None
    while time.perf_counter() < deadline:
        try:
            if conn is None or conn.closed:
                _, conn = await loop.create_connection(ClientConn, host, port)
            t0 = time.perf_counter()
            status, body, first = await conn.request(raw)
            t1 = time.perf_counter()
        except (OSError, TimeoutError, httptools.HttpParserError):
            stats.errors += 1
            if conn is not None and conn.transport is not None:
                conn.transport.close()
            conn = None
            await asyncio.sleep(0.01)
            continue
        stats.statuses[status] = stats.statuses.get(status, 0) + 1
        if status != 200:
            stats.errors += 1
            continue
        stats.latencies.append(t1 - t0)
        stats.ttfbs.append((first or t1) - t0)
        stats.events.append(body.count(b"data: "))
    if conn is not None and conn.transport is not None:
        conn.transport.close()


def percentile(samples: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None when there are no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    idx = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[idx]


def summarize(stats: Stats, elapsed: float) -> dict[str, object]:
    """Reduce samples to the numbers the driver prints (latencies in ms)."""

    def ms(v: float | None) -> float | None:
        return None if v is None else v * 1000

    return {
        "requests": len(stats.latencies),
        "errors": stats.errors,
        "statuses": {str(k): v for k, v in stats.statuses.items()},
        "rps": len(stats.latencies) / elapsed if elapsed else 0.0,
        "p50_ms": ms(percentile(stats.latencies, 50)),
        "p99_ms": ms(percentile(stats.latencies, 99)),
        "ttfb_p50_ms": ms(percentile(stats.ttfbs, 50)),
        "ttfb_p99_ms": ms(percentile(stats.ttfbs, 99)),
        "events_min": min(stats.events) if stats.events else 0,
        "events_max": max(stats.events) if stats.events else 0,
    }


async def run(args: argparse.Namespace, body: bytes) -> dict[str, object]:
    """Start the workers, wait for the deadline, return the summary."""
    host, port, raw = build_request(args.url, body, args.header)
    stats = Stats()
    start = time.perf_counter()
    deadline = start + args.duration
    await asyncio.gather(
        *(worker(host, port, raw, deadline, stats) for _ in range(args.concurrency))
    )
    return summarize(stats, time.perf_counter() - start)


def main() -> None:
    """CLI entry point; prints one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--body-file", required=True)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--duration", type=float, default=3.0)
    args = ap.parse_args()
    with open(args.body_file, "rb") as fh:
        body = fh.read()
    print(json.dumps(asyncio.run(run(args, body))), flush=True)


if __name__ == "__main__":
    main()

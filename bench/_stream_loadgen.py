"""Open-loop streaming load generator used by ``bench/capacity.py``.

Opens ``--streams`` SSE streams at ``--rate`` new streams per second (one new
TCP connection each, raw asyncio + ``httptools``, no aiohttp: it shares a core
with the upstream and must stay cheap), keeps each one open until the server
ends it, and records per stream the time to first body byte (from the start
of the TCP connect, i.e. what a client sees), the number of SSE events, and
how it ended.  It also tracks how many streams are open at once (first byte
received, end not yet seen) and reports the peak.

The request body is ``--body-file`` with ``max_tokens`` set to ``--events``,
which the slow upstream uses as its number of events.

Result: one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools


@dataclass
class Stats:
    """Samples and counters shared by every stream."""

    ttfbs: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    open_now: int = 0
    peak_open: int = 0
    peak_at: float = 0.0
    started: int = 0
    completed: int = 0
    first_error: str = ""

    def error(self, kind: str, detail: str = "") -> None:
        """Count one failed stream by kind; remember the first message."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if not self.first_error:
            self.first_error = f"{kind}: {detail}"[:300]


class StreamConn(asyncio.Protocol):
    """One connection carrying one streaming request."""

    def __init__(self, stats: Stats, t0: float) -> None:
        self.stats = stats
        self.t0 = t0
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.first: float | None = None
        self.events = 0
        self.tail = b""
        self.is_open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        """A connection lost before the end of the message is an error."""
        self._close_stream()
        if not self.done.done():
            self.done.set_result(f"connection lost: {exc!r}")

    def data_received(self, data: bytes) -> None:
        """Feed the parser; a parse error ends the stream."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if not self.done.done():
                self.done.set_result(f"parse error: {exc}")
            if self.transport is not None:
                self.transport.close()

    def on_body(self, body: bytes) -> None:
        """First byte time, and count ``data: `` markers across chunk seams."""
        if self.first is None:
            self.first = time.perf_counter()
            self.is_open = True
            s = self.stats
            s.open_now += 1
            if s.open_now > s.peak_open:
                s.peak_open, s.peak_at = s.open_now, self.first
        joined = self.tail + body
        self.events += joined.count(b"data: ")
        self.tail = joined[-5:]  # shorter than the marker: never counted twice

    def on_message_complete(self) -> None:
        """The server ended the response."""
        self._close_stream()
        if not self.done.done():
            self.done.set_result("")

    def _close_stream(self) -> None:
        if self.is_open:
            self.is_open = False
            self.stats.open_now -= 1


async def one_stream(host: str, port: int, raw: bytes, limit_s: float, stats: Stats) -> None:
    """Open one stream, wait for its end, record the outcome."""
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    stats.started += 1
    conn: StreamConn | None = None
    try:
        async with asyncio.timeout(limit_s):
            _, conn = await loop.create_connection(lambda: StreamConn(stats, t0), host, port)
            assert conn.transport is not None
            conn.transport.write(raw)
            outcome = await conn.done
    except TimeoutError:
        stats.error("timeout", f"no end after {limit_s:.0f}s")
        if conn is not None:
            conn._close_stream()
        return
    except OSError as exc:
        stats.error("connect", repr(exc))
        return
    finally:
        if conn is not None and conn.transport is not None:
            conn.transport.close()
    status = conn.parser.get_status_code() if conn.parser else 0
    if outcome:
        stats.error("broken", outcome)
        return
    stats.statuses[status] = stats.statuses.get(status, 0) + 1
    if status != 200:
        stats.error(f"status {status}")
        return
    t1 = time.perf_counter()
    stats.completed += 1
    stats.ttfbs.append((conn.first or t1) - t0)
    stats.durations.append(t1 - t0)
    stats.events.append(conn.events)


def build_request(url: str, body: bytes, headers: list[str]) -> tuple[str, int, bytes]:
    """Pre-render the request bytes once."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "Connection: close",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def percentile(samples: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None when empty."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def raise_fd_limit() -> int:
    """Raise the soft fd limit to the hard one; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


async def run(args: argparse.Namespace, body: bytes) -> dict[str, object]:
    """Launch streams on schedule, wait for all of them, summarise."""
    host, port, raw = build_request(args.url, body, args.header)
    stats = Stats()
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    timeline: list[tuple[float, int]] = []
    next_sample = start
    launched = 0
    while launched < args.streams:
        now = time.perf_counter()
        due = min(args.streams, int((now - start) * args.rate) + 1)
        while launched < due:
            task = loop.create_task(one_stream(host, port, raw, args.timeout, stats))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            launched += 1
        if now >= next_sample:
            timeline.append((round(now - start, 2), stats.open_now))
            next_sample += 1.0
        await asyncio.sleep(max(0.0, min(0.01, (launched + 1) / args.rate - (now - start))))
    ramp_s = time.perf_counter() - start
    while tasks:
        await asyncio.sleep(0.05)
        now = time.perf_counter()
        if now >= next_sample:
            timeline.append((round(now - start, 2), stats.open_now))
            next_sample += 1.0
    elapsed = time.perf_counter() - start

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 3)

    short = sum(1 for e in stats.events if e < args.events)
    return {
        "streams": args.streams,
        "started": stats.started,
        "completed": stats.completed,
        "errors": sum(stats.errors.values()) + short,
        "error_kinds": {**stats.errors, **({"short": short} if short else {})},
        "first_error": stats.first_error,
        "statuses": {str(k): v for k, v in stats.statuses.items()},
        "peak_open": stats.peak_open,
        "peak_at_s": round(stats.peak_at - start, 2) if stats.peak_at else None,
        "ramp_s": round(ramp_s, 2),
        "elapsed_s": round(elapsed, 2),
        "ttfb_p50_ms": ms(percentile(stats.ttfbs, 50)),
        "ttfb_p90_ms": ms(percentile(stats.ttfbs, 90)),
        "ttfb_p99_ms": ms(percentile(stats.ttfbs, 99)),
        "ttfb_max_ms": ms(max(stats.ttfbs) if stats.ttfbs else None),
        "duration_p50_s": percentile(stats.durations, 50),
        "duration_max_s": max(stats.durations) if stats.durations else None,
        "events_min": min(stats.events) if stats.events else 0,
        "events_total": sum(stats.events),
        "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 3),
        "timeline": timeline,
    }


def main() -> None:
    """CLI entry point; prints one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--body-file", required=True)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--streams", type=int, required=True)
    ap.add_argument("--rate", type=float, default=500.0, help="new streams per second")
    ap.add_argument("--events", type=int, default=30, help="max_tokens sent = events expected")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per stream")
    args = ap.parse_args()
    raise_fd_limit()  # streams open at once, not in total, need fds: no check against --streams
    with open(args.body_file, "rb") as fh:
        doc = json.load(fh)
    doc["max_tokens"] = args.events
    body = json.dumps(doc).encode()
    print(json.dumps(asyncio.run(run(args, body))), flush=True)


if __name__ == "__main__":
    main()

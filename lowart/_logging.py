"""Logging set-up and the one access-log line every interface writes.

The access log gets its own handler that writes the JSON line as it is (with
its own timestamp): going through the root formatter would pay a strftime per
request for a second, human timestamp nobody parses.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from typing import TextIO

import orjson

from lowart.types import CallContext

__all__ = ["configure_logging", "flush_access_log", "log_access", "outcome_of"]

_access = logging.getLogger("lowart.access")
_FLUSH_AFTER = 0.05  # seconds an access line may wait to share a write with others


class _BufferedLines:
    """Access lines gathered and written once per ~50 ms instead of once per request.

    A write per request was ~5 % of a busy gateway's event loop; lines still
    leave within 50 ms, and `flush` runs at shutdown and exit.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: list[str] = []
        self._scheduled = False

    def write(self, line: str) -> None:
        self._lines.append(line)
        if not self._scheduled:
            try:
                asyncio.get_running_loop().call_later(_FLUSH_AFTER, self.flush)
                self._scheduled = True
            except RuntimeError:  # no loop (a command, not a server): write now
                self.flush()

    def flush(self) -> None:
        self._scheduled = False
        if not self._lines:
            return
        data = "\n".join(self._lines) + "\n"
        self._lines.clear()
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed: nothing useful left to do with a log line


_sink: _BufferedLines | None = None  # set by configure_logging for a serving process


def flush_access_log() -> None:
    if _sink is not None:
        _sink.flush()


_QUIET = ("aiosqlite", "sqlalchemy", "alembic", "asyncio", "mcp")


def log_access(ctx: CallContext, status: int | str, **where: str) -> None:
    """One structured line per request: who, which route, outcome, latency, tokens.
    Never a body or a key (`where` is the method and path or RPC name).

    A failed request also says why: `error` (the code the client got), and for a
    failed upstream `cause` (dns, refused, reset, closed, tls, connect_timeout,
    first_byte_timeout, read_timeout, total_timeout, status_NNN, ...) and the
    `upstream_status` it answered with."""
    if not _access.isEnabledFor(logging.INFO):
        return
    fields = {
        "ts": round(time.time(), 3),
        "request_id": ctx.request_id,
        "interface": ctx.interface,
        **where,
        "status": status,
        "key": ctx.key_name,
        "route": ctx.route,
        "outcome": outcome_of(ctx, status),
        "latency_ms": round((time.perf_counter() - ctx.started) * 1000, 2),
        "prompt_tokens": ctx.prompt_tokens,
        "completion_tokens": ctx.completion_tokens,
    }
    if ctx.error_code is not None:
        fields["error"] = ctx.error_code
        if ctx.cause is not None:
            fields["cause"] = ctx.cause
        if ctx.upstream_status is not None:
            fields["upstream_status"] = ctx.upstream_status
    line = orjson.dumps(fields).decode()
    if _sink is not None:
        _sink.write(line)
    else:
        _access.info(line)


def outcome_of(ctx: CallContext, status: int | str) -> str:
    """ok, error or cancelled: what the protocol status says, unless it says success and
    the engine knows better (a stream that failed after its 200 went out)."""
    if isinstance(status, int):
        failed = status >= 400
        cancelled = status == 499
    else:  # a gRPC status code name
        failed = status != "OK"
        cancelled = status == "CANCELLED"
    if cancelled:
        return "cancelled"
    if failed:
        return "error"
    return ctx.status or "ok"


class _NoProtocolTracebacks(logging.Filter):
    """aiohttp logs a full traceback for every malformed HTTP request; one line is
    enough, and a flood of bad requests must not turn into a flood of tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and type(record.exc_info[1]).__name__ in (
            "BadHttpMessage",
            "BadStatusLine",
            "LineTooLong",
            "InvalidHeader",
            "BadHttpMethod",
        ):
            record.msg = f"{record.getMessage()}: {record.exc_info[1]}".replace("\n", " ")
            record.args = ()
            record.exc_info = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(debug: bool = False) -> None:
    # A server writes a record per request: skip what nobody reads in our lines
    # (the caller's file and line, thread and process names); the logging docs
    # name these switches as the way to make records cheaper.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("aiohttp.server").addFilter(_NoProtocolTracebacks())
    global _sink
    _sink = _BufferedLines(sys.stderr)
    atexit.register(flush_access_log)

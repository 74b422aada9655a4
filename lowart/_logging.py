"""Logging set-up and the one access-log line every interface writes.

The access log gets its own handler that writes the JSON line as it is (with
its own timestamp): going through the root formatter would pay a strftime per
request for a second, human timestamp nobody parses.
"""

from __future__ import annotations

import logging
import sys
import time

import orjson

from lowart.types import CallContext

__all__ = ["configure_logging", "log_access"]

_access = logging.getLogger("lowart.access")
_QUIET = ("aiosqlite", "sqlalchemy", "alembic", "asyncio", "mcp")


def log_access(ctx: CallContext, status: int | str, **where: str) -> None:
    """One structured line per request: who, which route, outcome, latency, tokens.
    Never a body or a key (`where` is the method and path or RPC name)."""
    if not _access.isEnabledFor(logging.INFO):
        return
    _access.info(
        orjson.dumps(
            {
                "ts": round(time.time(), 3),
                "request_id": ctx.request_id,
                "interface": ctx.interface,
                **where,
                "status": status,
                "key": ctx.key_name,
                "route": ctx.route,
                "outcome": ctx.status,
                "latency_ms": round((time.perf_counter() - ctx.started) * 1000, 2),
                "prompt_tokens": ctx.prompt_tokens,
                "completion_tokens": ctx.completion_tokens,
            }
        ).decode()
    )


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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _access.addHandler(handler)
    _access.propagate = False

"""The tool-call audit writer: rows queued on the request path, written in batches off it.

Like the usage writer: a batch the database refuses for the database (down)
is kept and retried; a batch refused for its rows is split until the bad rows
are found, and only those are dropped (logged), so one bad row never stops the
others. `flush` writes what is queued (Admin calls it before reading the audit),
`close` flushes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["AuditWriter"]

log = logging.getLogger("lowart.toolhub")

Row = dict[str, Any]

_MAX_PENDING = 100_000  # while the database is away; past this the oldest rows go (logged)


class AuditWriter:
    def __init__(
        self,
        write_batch: Callable[[Sequence[Row]], Awaitable[None]],
        *,
        is_data_error: Callable[[BaseException], bool] = lambda exc: False,
        flush_seconds: float = 0.2,
        batch_size: int = 500,
    ) -> None:
        self._write_batch = write_batch
        self._is_data_error = is_data_error
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._pending: list[Row] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lowart-tool-audit")

    def submit(self, row: Row) -> None:
        """Queue one row (never blocks, never raises)."""
        self._pending.append(row)
        if len(self._pending) > _MAX_PENDING:
            del self._pending[0]
            self.dropped += 1
            log.error("tool audit queue full: dropped the oldest row")
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything queued now (raises if the database is away)."""
        async with self._lock:
            while self._pending:
                batch = self._pending[: self._batch_size]
                await self._write_isolating(batch)
                del self._pending[: len(batch)]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:
            log.exception(
                "tool audit: %d rows could not be written at shutdown", len(self._pending)
            )

    async def _run(self) -> None:
        delay = self._flush_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            try:
                await self.flush()
                delay = self._flush_seconds
            except Exception:
                log.exception("tool audit write failed; retrying")
                delay = min(delay * 2, 30.0)

    async def _write_isolating(self, batch: list[Row]) -> None:
        try:
            await self._write_batch(batch)
        except Exception as exc:
            if not self._is_data_error(exc):
                raise
            if len(batch) == 1:
                self.dropped += 1
                log.error(
                    "tool audit row rejected by the database, dropped: %r (%s)", batch[0], exc
                )
                return
            middle = len(batch) // 2
            await self._write_isolating(batch[:middle])
            await self._write_isolating(batch[middle:])

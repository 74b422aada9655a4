"""Usage records are queued on the request path and written in batches off it.

A write that fails for the database (down, restarting) keeps its batch and
retries with backoff, and `close` flushes everything still queued, so a record
that was submitted is never lost while the process shuts down cleanly.

A write that fails for its rows (`is_data_error`: a value a column cannot hold)
is split in halves until the rows the database rejects on their own are found;
those are quarantined (logged and counted in `quarantined`) and every other row
is written. One bad row never holds back everyone else's usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict

from lowart.accounting._journal import UsageJournal
from lowart.telemetry import NO_TRACING, Metrics, Tracing
from lowart.types import UsageRecord

__all__ = ["UsageWriter"]

log = logging.getLogger("lowart.usage")


class UsageWriter:
    def __init__(
        self,
        write_batch: Callable[[Sequence[UsageRecord]], Awaitable[None]],
        *,
        flush_seconds: float = 0.2,
        batch_size: int = 500,
        is_data_error: Callable[[BaseException], bool] = lambda exc: False,
        journal: UsageJournal | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing = NO_TRACING,
    ) -> None:
        self._metrics = metrics or Metrics.disabled()
        self._tracing = tracing
        self._metrics.watch_usage_queue(lambda: len(self._pending))
        self._write_batch = write_batch
        self._journal = journal
        self._is_data_error = is_data_error
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._pending: list[UsageRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._listeners: list[Callable[[UsageRecord], None]] = []
        self._lock = asyncio.Lock()  # one writer at a time, or a batch could be written twice
        self.written = 0
        self.quarantined = 0  # records the store rejected on their own (never written)

    def add_listener(self, listener: Callable[[UsageRecord], None]) -> None:
        """Called synchronously per submitted record (limits settle, metrics)."""
        self._listeners.append(listener)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lowart-usage-writer")

    def submit(self, record: UsageRecord) -> None:
        """Queue a record; never blocks and never raises on the request path."""
        self._pending.append(record)
        if self._journal is not None:
            self._journal.append(record)
        self._metrics.usage(
            record.route,
            record.vendor,
            record.interface,
            record.key_name,
            (
                record.prompt_tokens,
                record.completion_tokens,
                record.cache_read_tokens,
                record.reasoning_tokens,
            ),
            record.ttft_ms / 1000 if record.ttft_ms is not None else None,
            (float(record.cost), record.currency or "")
            if record.cost is not None and record.cost
            else None,
        )
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:
                log.exception("usage listener failed")
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def recover(self) -> int:
        """Queue the records a killed process left in its journal (start-up); they were
        admitted and settled by that process, so no listener sees them again."""
        if self._journal is None:
            return 0
        records = self._journal.recover()
        for record in records:
            self._pending.append(record)
            self._journal.append(record)
        return len(records)

    async def _run(self) -> None:
        backoff = self._flush_seconds
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            if await self._flush_once():
                backoff = self._flush_seconds
            else:
                backoff = min(backoff * 2, 10.0)

    async def _flush_once(self) -> bool:
        async with self._lock:
            return await self._drain()

    async def _drain(self) -> bool:
        """Write what was queued when the flush began, in batches.

        Records that arrive meanwhile wait for the next tick (or a full batch).
        Chasing them instead kept the writer busy with batches of two or three
        rows back to back under steady load: ~0.5 ms of CPU per request at c=1,
        where one batch per tick costs a few µs a row.
        """
        owed = len(self._pending)
        while owed > 0:
            batch = self._pending[: min(owed, self._batch_size)]
            try:
                await self._write_isolating(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("writing usage records failed; will retry")
                return False
            owed -= len(batch)
        return True

    async def _write_isolating(self, batch: list[UsageRecord]) -> None:
        """Write `batch`, splitting it around rows the store rejects.

        Pieces are written front to back, and each one written or quarantined leaves
        the queue at once, so a transient failure midway (raised) retries only the rest.
        """
        pieces = [batch]
        while pieces:
            piece = pieces.pop()
            span = self._tracing.root("lowart.usage.write", {"lowart.usage.rows": len(piece)})
            started = time.perf_counter()
            try:
                await self._write_batch(piece)
            except asyncio.CancelledError:
                span.end()
                raise
            except Exception as exc:
                span.fail(type(exc).__name__)
                span.end()
                if not self._is_data_error(exc):
                    raise
                if len(piece) > 1:
                    middle = len(piece) // 2
                    pieces += (piece[middle:], piece[:middle])  # the front half next
                    continue
                self._quarantine(piece[0], exc)
            else:
                span.end()
                self._metrics.usage_batch(time.perf_counter() - started, len(piece))
                self.written += len(piece)
            del self._pending[: len(piece)]
            if self._journal is not None:
                self._journal.written(len(piece))

    def _quarantine(self, record: UsageRecord, exc: Exception) -> None:
        self.quarantined += 1
        self._metrics.usage_quarantined()
        log.error(
            "usage record %s rejected by the store, dropped: %s; record: %r",
            record.request_id[:200],
            str(exc).split("\n", 1)[0],  # the driver's message, without the SQL
            asdict(record),
        )

    async def flush(self) -> None:
        await self._flush_once()

    async def close(self, attempts: int = 5) -> None:
        """Stop the background task and write whatever is still queued."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        failures = 0
        while self._pending:  # records submitted during the last flush are written too
            if await self._flush_once():
                continue
            failures += 1
            if failures >= attempts:
                log.error(
                    "%d usage records could not be written at shutdown%s",
                    len(self._pending),
                    "; they stay in the journal for the next start" if self._journal else "",
                )
                break
            await asyncio.sleep(0.2 * failures)
        if self._journal is not None:
            self._journal.close(complete=not self._pending)

"""UsageWriter: concurrent flushes never write a record twice."""

from __future__ import annotations

import asyncio

from lowart.accounting import UsageWriter
from lowart.types import UsageRecord


def _record(index: int) -> UsageRecord:
    return UsageRecord(
        request_id=f"r{index}",
        key_id=1,
        key_name="k",
        route="m",
        vendor="mock",
        upstream_model="m",
        interface="http",
        status="ok",
        http_status=200,
        error_code=None,
        prompt_tokens=1,
        completion_tokens=1,
        latency_ms=1.0,
        ttft_ms=None,
        stream=False,
    )


async def test_flush_during_a_slow_background_write_writes_each_record_once():
    written: list[str] = []
    started = asyncio.Event()

    async def slow_write(batch) -> None:
        started.set()
        await asyncio.sleep(0.05)
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(slow_write, flush_seconds=0.01)
    writer.start()
    for index in range(5):
        writer.submit(_record(index))
    await asyncio.wait_for(started.wait(), 2)  # the background flush is mid-write
    await writer.flush()
    await writer.close()
    assert sorted(written) == [f"r{i}" for i in range(5)]

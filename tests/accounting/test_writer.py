"""UsageWriter: every submitted record is written exactly once."""

from __future__ import annotations

import asyncio

from lowart.accounting import UsageWriter
from lowart.types import UsageRecord


def _record(request_id: str) -> UsageRecord:
    return UsageRecord(
        request_id=request_id,
        key_id=1,
        key_name="k",
        route="mock",
        vendor="mock",
        upstream_model="mock",
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


async def test_a_flush_during_a_background_write_neither_duplicates_nor_drops():
    written: list[str] = []
    writing = asyncio.Event()

    async def slow_write(batch):
        writing.set()
        await asyncio.sleep(0.05)
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(slow_write, flush_seconds=0.01)
    writer.start()
    writer.submit(_record("first"))
    await asyncio.wait_for(writing.wait(), 2)  # the background loop is mid-write
    flushing = asyncio.create_task(writer.flush())
    await asyncio.sleep(0)
    writer.submit(_record("second"))  # arrives while both want to write
    await asyncio.wait_for(flushing, 2)
    await writer.close()
    assert sorted(written) == ["first", "second"]

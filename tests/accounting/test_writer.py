"""The usage writer under concurrent flushes."""

from __future__ import annotations

import asyncio

from lowart.accounting import UsageWriter
from lowart.types import UsageRecord


def _record(n: int) -> UsageRecord:
    return UsageRecord(
        request_id=f"r{n}",
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


async def test_concurrent_flushes_write_each_record_once():
    written: list[str] = []

    async def slow_write(batch):
        await asyncio.sleep(0.01)
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(slow_write, flush_seconds=10)
    writer.submit(_record(1))
    first = asyncio.create_task(writer.flush())
    await asyncio.sleep(0)  # the first flush is now writing
    writer.submit(_record(2))
    await asyncio.gather(first, writer.flush())
    assert sorted(written) == ["r1", "r2"]

"""The usage writer batches off the request path and loses nothing when the database hiccups."""

from __future__ import annotations

import asyncio

from lowart.accounting import UsageWriter
from tests.support.records import make_record


def _record(i: int):
    return make_record(f"r{i}")


async def test_failed_writes_are_retried_and_flushed_on_close():
    written: list[str] = []
    failures = {"left": 2}

    async def flaky_write(batch):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database went away")
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(flaky_write, flush_seconds=0.01, batch_size=3)
    writer.start()
    for i in range(7):
        writer.submit(_record(i))
    await writer.close()
    assert written == [f"r{i}" for i in range(7)]
    assert writer.written == 7


async def test_concurrent_flushes_never_write_a_record_twice():
    written: list[str] = []

    async def slow_write(batch):
        await asyncio.sleep(0.01)
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(slow_write, flush_seconds=0.001, batch_size=2)
    writer.start()
    for i in range(20):
        writer.submit(_record(i))
    await asyncio.gather(writer.flush(), writer.flush(), writer.flush())
    await writer.close()
    assert sorted(written) == sorted(f"r{i}" for i in range(20))


async def test_listeners_see_each_record_synchronously():
    seen = []

    async def write(batch):
        return None

    writer = UsageWriter(write)
    writer.add_listener(lambda r: seen.append(r.request_id))
    writer.submit(_record(1))
    assert seen == ["r1"]
    await writer.close()


async def test_steady_traffic_is_written_once_per_tick_not_chased_row_by_row():
    batches: list[int] = []

    async def write(batch):
        await asyncio.sleep(0.005)  # a real database takes a while too
        batches.append(len(batch))

    writer = UsageWriter(write, flush_seconds=0.1, batch_size=500)
    writer.start()
    for i in range(200):  # ~0.4 s of steady traffic, a record every 2 ms
        writer.submit(_record(i))
        await asyncio.sleep(0.002)
    await writer.close()
    assert sum(batches) == 200
    assert len(batches) <= 8  # one per tick (plus the final flush), not one per few records


async def test_records_submitted_during_the_final_flush_are_written():
    written: list[str] = []

    async def write(batch):
        written.extend(r.request_id for r in batch)
        if len(written) == 1:
            writer.submit(_record(99))  # arrives while the last flush is running

    writer = UsageWriter(write, flush_seconds=10)
    writer.start()
    writer.submit(_record(1))
    await writer.close()
    assert written == ["r1", "r99"]


class _Rejected(ValueError):
    """What a store raises for a row its columns cannot hold."""


async def test_a_rejected_row_is_quarantined_and_every_other_row_written():
    written: list[str] = []

    async def write(batch):
        if any(r.request_id == "bad" for r in batch):
            raise _Rejected("value too long")
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(
        write, flush_seconds=0.01, batch_size=8, is_data_error=lambda e: isinstance(e, _Rejected)
    )
    writer.start()
    for i in range(11):
        writer.submit(_record(i) if i != 5 else make_record("bad"))
    await writer.flush()
    writer.submit(_record(99))  # later records are not held back by the bad one
    await writer.close()
    assert sorted(written) == sorted([f"r{i}" for i in range(11) if i != 5] + ["r99"])
    assert writer.written == 11 and writer.quarantined == 1


async def test_a_transient_failure_while_isolating_loses_nothing():
    written: list[str] = []
    down = {"after": 2}  # the database goes away after two pieces were tried

    async def write(batch):
        if down["after"] == 0:
            down["after"] = -1
            raise ConnectionError("database went away")
        down["after"] -= 1
        if any(r.request_id == "bad" for r in batch):
            raise _Rejected("integer out of range")
        written.extend(r.request_id for r in batch)

    writer = UsageWriter(
        write, flush_seconds=0.01, batch_size=8, is_data_error=lambda e: isinstance(e, _Rejected)
    )
    writer.start()
    for i in range(8):
        writer.submit(_record(i) if i != 1 else make_record("bad"))
    await writer.close()
    assert sorted(written) == sorted(f"r{i}" for i in range(8) if i != 1)
    assert len(written) == 7 and writer.quarantined == 1

"""The usage journal: what a dead process left is replayed once; a live one's is left alone."""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

from lowart.accounting import UsageJournal
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
        prompt_tokens=n,
        completion_tokens=1,
        latency_ms=1.0,
        ttft_ms=None,
        stream=False,
        extra={"n": n},
        cost=Decimal(n) / 3 if n % 2 else None,  # an exact decimal survives, digits and all
        currency="USD" if n % 2 else None,
    )


async def test_a_dead_process_journal_is_replayed_from_what_the_database_lacks(tmp_path):
    dead = UsageJournal(tmp_path)
    for n in range(5):
        dead.append(_record(n))
    await asyncio.sleep(0)  # the loop turn's write
    dead.written(2)  # the database took r0 and r1
    dead.append(_record(5))
    await asyncio.sleep(0)
    with dead.path.open("ab") as handle:
        handle.write(b'{"request_id": "cut sh')  # the kill cut the last line short
    os.close(dead._fd)  # the process is gone: its lock with it

    alive = UsageJournal(tmp_path)
    recovered = alive.recover()

    assert [r.request_id for r in recovered] == ["r2", "r3", "r4", "r5"]
    assert recovered[0].extra == {"n": 2}
    assert [(r.cost, r.currency) for r in recovered[:2]] == [
        (None, None),
        (Decimal(3) / 3, "USD"),
    ]
    assert recovered[3].cost == Decimal(5) / 3
    assert not dead.path.exists()
    assert alive.recover() == []  # once


async def test_a_live_process_journal_is_not_touched(tmp_path):
    first = UsageJournal(tmp_path)
    first.append(_record(1))
    await asyncio.sleep(0)
    second = UsageJournal(tmp_path)
    assert second.recover() == []
    assert first.path.exists()


async def test_a_journal_empties_once_everything_is_written(tmp_path):
    journal = UsageJournal(tmp_path)
    for n in range(3):
        journal.append(_record(n))
    await asyncio.sleep(0)
    assert journal.path.stat().st_size > 0
    journal.written(3)
    assert journal.path.stat().st_size == 0
    journal.close(complete=True)
    assert not journal.path.exists()

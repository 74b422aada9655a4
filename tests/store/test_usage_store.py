"""Usage storage: rollups add up, retention keeps totals while pruning raw rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from lowart.store import UsageStore, migrate, open_engine
from tests.support.records import make_record


def _record(i: int, *, age_days: float = 0, route: str = "m"):
    return make_record(
        f"r{i}",
        route=route,
        prompt_tokens=3,
        completion_tokens=2,
        latency_ms=10.0,
        created_at=time.time() - age_days * 86400,
    )


async def test_rollups_and_retention(tmp_path):
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")
    await migrate(engine)
    store = UsageStore(engine)
    await store.write_batch([_record(i, age_days=40) for i in range(3)])
    await store.write_batch([_record(i + 3) for i in range(2)])
    await store.write_batch([_record(9, route="other")])
    by_model = {r["route"]: r for r in await store.summary("model")}
    assert by_model["m"]["requests"] == 5 and by_model["m"]["total_tokens"] == 25
    assert len(await store.summary("day")) == 2
    removed = await store.prune(datetime.now(UTC) - timedelta(days=30))
    assert removed == 3
    assert len(await store.records(limit=100)) == 3
    by_model = {r["route"]: r for r in await store.summary("model")}
    assert by_model["m"]["requests"] == 5  # totals survive retention
    recent = await store.summary("model", since=(datetime.now(UTC) - timedelta(days=7)).date())
    assert {r["route"]: r["requests"] for r in recent} == {"m": 2, "other": 1}
    await engine.dispose()

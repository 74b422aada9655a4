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


async def _rows_both_ways(url: str) -> tuple[dict, dict]:
    """One record written through the driver's executemany and once through SQLAlchemy Core."""
    engine = open_engine(url)
    await migrate(engine)
    fast, core = UsageStore(engine), UsageStore(engine)
    core._driver_insert = None  # the path drivers without a known paramstyle take
    assert fast._driver_insert is not None
    record = make_record(
        "every-field",
        error_code="upstream_error",
        status="error",
        http_status=502,
        ttft_ms=12.5,
        stream=True,
        cache_read_tokens=4,
        cache_creation_tokens=2,
        usage_source="partial",
        extra={"requested_model": "m", "attempts": 2},
        created_at=1767225599.9999996,  # rounds up to the next second (and year)
    )
    await fast.write_batch([record])
    await core.write_batch([record])
    newer, older = await fast.records(limit=2)
    await engine.dispose()
    return older, newer


async def test_driver_rows_equal_core_rows_on_sqlite(tmp_path):
    via_driver, via_core = await _rows_both_ways(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")
    assert via_driver.pop("id") != via_core.pop("id")
    assert via_driver == via_core
    assert via_driver["created_at"] == datetime(2026, 1, 1, tzinfo=UTC).replace(
        tzinfo=via_driver["created_at"].tzinfo
    )


def test_driver_rows_equal_core_rows_on_postgres(postgres_url, loop_thread):
    via_driver, via_core = loop_thread.run(_rows_both_ways(postgres_url))
    assert via_driver.pop("id") != via_core.pop("id")
    assert via_driver == via_core

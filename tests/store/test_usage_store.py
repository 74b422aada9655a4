"""Usage storage: rollups add up, retention keeps totals while pruning raw rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from lowart.accounting import UsageWriter
from lowart.store import UsageStore, is_data_error, migrate, open_engine
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
        cost=Decimal("1234.567890123456"),
        currency="EUR",
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
    assert via_driver["cost"] == Decimal("1234.567890123456")
    assert via_driver["created_at"] == datetime(2026, 1, 1, tzinfo=UTC).replace(
        tzinfo=via_driver["created_at"].tzinfo
    )


def test_driver_rows_equal_core_rows_on_postgres(postgres_url, loop_thread):
    via_driver, via_core = loop_thread.run(_rows_both_ways(postgres_url))
    assert via_driver.pop("id") != via_core.pop("id")
    assert via_driver == via_core
    assert via_driver["cost"] == Decimal("1234.567890123456")


async def _costs_add_up_exactly(url: str) -> None:
    """Costs a float would round (0.1 + 0.2) are stored and summed exactly."""
    engine = open_engine(url)
    await migrate(engine)
    store = UsageStore(engine)
    costs = [Decimal("0.1"), Decimal("0.2"), Decimal("0.000000000001"), None]
    await store.write_batch([make_record(f"c{i}", cost=c) for i, c in enumerate(costs[:2])])
    await store.write_batch([make_record(f"c{i + 2}", cost=c) for i, c in enumerate(costs[2:])])
    (row,) = await store.summary("model")
    assert row["cost"] == Decimal("0.300000000001")
    stored = sorted(r["cost"] for r in await store.records() if r["cost"] is not None)
    assert stored == [Decimal("0.000000000001"), Decimal("0.1"), Decimal("0.2")]
    await engine.dispose()


async def test_costs_are_exact_on_sqlite(tmp_path):
    await _costs_add_up_exactly(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")


def test_costs_are_exact_on_postgres(postgres_url, loop_thread):
    loop_thread.run(_costs_add_up_exactly(postgres_url))


async def _poisoned_batch_is_isolated(url: str) -> None:
    """One row the columns cannot hold (an over-long id, a count past 64 bits) is
    quarantined; the rest of its batch and everything after it are written."""
    engine = open_engine(url)
    await migrate(engine)
    store = UsageStore(engine)
    writer = UsageWriter(store.write_batch, batch_size=50, is_data_error=is_data_error)
    for i in range(20):
        writer.submit(_record(i))
    writer.submit(make_record("x" * 150))  # longer than a PostgreSQL VARCHAR(100)
    writer.submit(make_record("huge", prompt_tokens=2**63))  # past any INTEGER column
    for i in range(20, 30):
        writer.submit(_record(i))
    await writer.flush()
    writer.submit(_record(30))
    await writer.close()
    ids = {r["request_id"] for r in await store.records(limit=100)}
    assert {f"r{i}" for i in range(31)} <= ids
    assert "huge" not in ids
    assert writer.quarantined == (1 if "sqlite" in url else 2)
    assert writer.written == 31 + (1 if "sqlite" in url else 0)
    await engine.dispose()


async def test_a_poisoned_row_does_not_wedge_usage_on_sqlite(tmp_path):
    await _poisoned_batch_is_isolated(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")


def test_a_poisoned_row_does_not_wedge_usage_on_postgres(postgres_url, loop_thread):
    loop_thread.run(_poisoned_batch_is_isolated(postgres_url))


def test_data_errors_are_told_from_connection_errors():
    from sqlalchemy import exc as sa_exc

    assert is_data_error(OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert is_data_error(sa_exc.DataError("INSERT", {}, Exception("value too long")))
    assert is_data_error(sa_exc.IntegrityError("INSERT", {}, Exception("not null")))
    assert not is_data_error(sa_exc.OperationalError("INSERT", {}, Exception("gone")))
    assert not is_data_error(sa_exc.InterfaceError("INSERT", {}, Exception("closed")))
    assert not is_data_error(ConnectionRefusedError())
    assert not is_data_error(RuntimeError("unknown: retried, never dropped"))


async def _report_on(url: str) -> None:
    """The same report, to the millisecond and the last decimal, on either database."""
    from lowart.store import UsageFilter

    engine = open_engine(url)
    await migrate(engine)
    store = UsageStore(engine)
    now = datetime(2026, 11, 30, 13, 45, tzinfo=UTC).timestamp()
    records = [
        make_record(
            f"p{i}",
            route="a" if i < 20 else "b",
            vendor="openai" if i < 20 else "anthropic",
            status="ok" if i % 10 else "error",
            latency_ms=float(i + 1),  # a: 1..20, b: 21..23
            ttft_ms=float(100 - i) if i < 20 and i % 2 else None,
            cost=Decimal("0.000000000003"),
            created_at=now - (3600 if i % 2 else 0),
        )
        for i in range(23)
    ]
    await store.write_batch(records)
    groups, total = await store.report("model")
    a, b = groups
    assert (a["route"], a["requests"], a["errors"], a["error_rate"]) == ("a", 20, 2, 0.1)
    assert (a["p50_latency_ms"], a["p95_latency_ms"]) == (10.0, 19.0)  # ranks 10 and 19
    # a's TTFTs: 99, 97, ... 81 (ten): rank 5 is 89, rank 10 is 99.
    assert (a["p50_ttft_ms"], a["p95_ttft_ms"]) == (89.0, 99.0)
    assert (b["p50_latency_ms"], b["p95_latency_ms"], b["p50_ttft_ms"]) == (22.0, 23.0, None)
    assert a["cost"] == Decimal("0.00000000006") and total["cost"] == Decimal("0.000000000069")
    assert (total["requests"], total["p50_latency_ms"], total["p95_latency_ms"]) == (23, 12.0, 22.0)
    hours = {row["hour"]: row["requests"] for row in (await store.report("hour"))[0]}
    assert hours == {"2026-11-30T12": 11, "2026-11-30T13": 12}
    days = (await store.report("day"))[0]
    assert [(row["day"], row["requests"]) for row in days] == [("2026-11-30", 23)]
    vendors = {row["vendor"] for row in (await store.report("vendor"))[0]}
    assert vendors == {"openai", "anthropic"}
    since = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    recent, recent_total = await store.report("model", UsageFilter(since=since))
    assert recent_total["requests"] == 12
    assert {row["route"]: row["requests"] for row in recent} == {"a": 10, "b": 2}
    newest = await store.records(limit=2, where=UsageFilter(route="b"))
    assert [r["request_id"] for r in newest] == ["p22", "p21"]
    following = await store.records(limit=5, where=UsageFilter(status="error"), after_id=0)
    assert [r["request_id"] for r in following] == ["p0", "p10", "p20"]
    await engine.dispose()


async def test_reports_on_sqlite(tmp_path):
    await _report_on(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")


def test_reports_on_postgres(postgres_url, loop_thread):
    loop_thread.run(_report_on(postgres_url))

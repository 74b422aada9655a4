"""Reading a window of usage records for a time series: every record, newest first,
also when they come back in several slices, and never more than the limit."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from lowart.store import SERIES_COLUMNS, UsageFilter, UsageStore, migrate, open_engine
from lowart.store._usage_search import _WINDOW_SLICE
from tests.support.records import make_record


async def _window_on(url: str) -> None:
    engine = open_engine(url)
    await migrate(engine)
    store = UsageStore(engine)
    count = 2 * _WINDOW_SLICE + 7  # three slices
    now = time.time()
    await store.write_batch(
        [make_record(f"r{i}", latency_ms=float(i), created_at=now - 1) for i in range(count)]
    )
    await store.write_batch([make_record("old", created_at=now - 7200)])  # outside the window
    where = UsageFilter(since=datetime.now(UTC) - timedelta(hours=1))
    rows = await store.search().window(where, count + 10)
    latency = SERIES_COLUMNS.index("latency_ms")
    assert [row[latency] for row in rows] == [float(i) for i in reversed(range(count))]
    assert len(await store.search().window(where, _WINDOW_SLICE + 1)) == _WINDOW_SLICE + 1
    await engine.dispose()


async def test_window_on_sqlite(tmp_path):
    await _window_on(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")


def test_window_on_postgres(postgres_url, loop_thread):
    loop_thread.run(_window_on(postgres_url))

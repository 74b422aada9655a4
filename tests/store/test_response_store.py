"""Stored Responses API objects: per key, updated in place, deleted, pruned (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from lowart.store import ResponseStore, migrate, open_engine
from lowart.store._tables import responses


async def _round_trip(url: str) -> None:
    engine = open_engine(url)
    try:
        await migrate(engine)
        store = ResponseStore(engine)
        items = [{"id": "msg_1", "type": "message", "role": "user", "content": "héllo ✓"}]
        await store.save(1, {"id": "resp_a", "status": "queued"}, items)
        await store.save(1, {"id": "resp_a", "status": "completed", "output": [1]}, [])
        assert await store.get(1, "resp_a") == (
            {"id": "resp_a", "status": "completed", "output": [1]},
            items,  # the items written first stay; a later state replaces only the Response
        )
        assert await store.get(2, "resp_a") is None  # another key's
        assert await store.delete(2, "resp_a") is False
        await store.save(1, {"id": "resp_old", "status": "completed"}, [])
        long_ago = datetime.now(UTC) - timedelta(days=40)
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(responses).where(responses.c.id == "resp_old").values(created_at=long_ago)
            )
        assert await store.prune(datetime.now(UTC) - timedelta(days=30)) == 1
        assert await store.get(1, "resp_old") is None
        assert await store.delete(1, "resp_a") is True
        assert await store.get(1, "resp_a") is None
    finally:
        await engine.dispose()


async def test_response_store_on_sqlite(tmp_path):
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")


def test_response_store_on_postgres(loop_thread, postgres_url):
    loop_thread.run(_round_trip(postgres_url))

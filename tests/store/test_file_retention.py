"""Result files older than the retention go, rows and bytes; newer ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from lowart.store import FileStore, migrate, open_engine
from lowart.store._tables import files


async def test_prune_removes_old_files_and_their_bytes(tmp_path):
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}")
    try:
        await migrate(engine)
        store = FileStore(engine, tmp_path / "data")
        old = await store.save(
            key_id=1, job_id="j1", filename="a.png", content_type="image/png", data=b"old"
        )
        new = await store.save(
            key_id=1, job_id="j2", filename="b.png", content_type="image/png", data=b"new"
        )
        long_ago = datetime.now(UTC) - timedelta(days=40)
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(files).where(files.c.id == old["id"]).values(created_at=long_ago)
            )
        assert store.path_of(old).exists()

        removed = await store.prune(datetime.now(UTC) - timedelta(days=30))

        assert removed == 1
        assert not store.path_of(old).exists()
        assert await store.get(old["id"], 1) is None
        assert store.path_of(new).read_bytes() == b"new"
        assert await store.get(new["id"], 1) is not None
        assert await store.prune(datetime.now(UTC) - timedelta(days=30)) == 0
    finally:
        await engine.dispose()

"""Result files: a database row for ownership and metadata, the bytes on disk.

Why disk and not the database: generated images are large (hundreds of KB to
several MB each), and blobs in SQLite would bloat the file and its WAL that
usage writes share, while on disk they are served with sendfile and can be
backed up or pruned on their own. The row keeps the owning key, so access
control never depends on the path being secret. Keep the data directory with
the database (and shared, if several gateways share one database).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._tables import files

__all__ = ["FileStore"]

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class FileStore:
    def __init__(self, engine: AsyncEngine, data_dir: Path) -> None:
        self._engine = engine
        self._root = data_dir / "files"

    def path_of(self, row: dict[str, Any]) -> Path:
        path: str = row["path"]
        return self._root / path

    async def save(
        self, *, key_id: int, job_id: str | None, filename: str, content_type: str, data: bytes
    ) -> dict[str, Any]:
        file_id = "file-" + secrets.token_hex(12)
        relative = f"{file_id[5:7]}/{file_id}{_EXTENSIONS.get(content_type, '')}"
        await asyncio.to_thread(_write, self._root / relative, data)
        row = {
            "id": file_id,
            "key_id": key_id,
            "job_id": job_id,
            "filename": filename,
            "content_type": content_type,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "path": relative,
            "created_at": datetime.now(UTC),
        }
        async with self._engine.begin() as conn:
            await conn.execute(sa.insert(files).values(**row))
        return row

    async def get(self, file_id: str, key_id: int) -> dict[str, Any] | None:
        """The file if this key owns it; another key's file looks exactly like a missing one."""
        query = sa.select(files).where(files.c.id == file_id, files.c.key_id == key_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return dict(row._mapping) if row else None

    async def for_job(self, job_id: str) -> list[dict[str, Any]]:
        query = sa.select(files).where(files.c.job_id == job_id).order_by(files.c.created_at)
        async with self._engine.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(query)]

    async def prune(self, older_than: datetime, batch: int = 500) -> int:
        """Delete the files created before `older_than`, rows first (so none is served
        half-gone), then the bytes off the event loop; how many went."""
        removed = 0
        while True:
            query = (
                sa.select(files.c.id, files.c.path)
                .where(files.c.created_at < older_than)
                .order_by(files.c.created_at)
                .limit(batch)
            )
            async with self._engine.begin() as conn:
                rows = (await conn.execute(query)).all()
                if not rows:
                    return removed
                await conn.execute(sa.delete(files).where(files.c.id.in_([r.id for r in rows])))
            await asyncio.to_thread(_unlink_all, [self._root / r.path for r in rows])
            removed += len(rows)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)

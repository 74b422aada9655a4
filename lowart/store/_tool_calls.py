"""The tool-call audit: rows written in batches by the hub's writer, read by Admin."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._rows import as_dict
from lowart.store._tables import tool_calls

__all__ = ["ToolCallStore"]


class ToolCallStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def write_batch(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        async with self._engine.begin() as conn:
            await conn.execute(sa.insert(tool_calls), list(rows))

    async def search(
        self,
        *,
        key_id: int | None = None,
        server: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; `before_id` pages backwards (the last id of the previous page)."""
        query = sa.select(tool_calls).order_by(tool_calls.c.id.desc()).limit(limit)
        if key_id is not None:
            query = query.where(tool_calls.c.key_id == key_id)
        if server is not None:
            query = query.where(tool_calls.c.server == server)
        if since is not None:
            query = query.where(tool_calls.c.at >= since)
        if before_id is not None:
            query = query.where(tool_calls.c.id < before_id)
        async with self._engine.connect() as conn:
            return [as_dict(row) for row in await conn.execute(query)]

"""Model aliases: name patterns that resolve to a route (`claude-*` -> `mock`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._rows import as_dict
from lowart.store._tables import model_aliases

__all__ = ["AliasStore"]


class AliasStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self) -> list[dict[str, Any]]:
        query = sa.select(model_aliases).order_by(model_aliases.c.pattern)
        async with self._engine.connect() as conn:
            return [as_dict(row) for row in await conn.execute(query)]

    async def put(self, pattern: str, model: str) -> dict[str, Any]:
        """Point `pattern` at `model` (replacing what it pointed at before)."""
        values = {"pattern": pattern, "model": model, "created_at": datetime.now(UTC)}
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(model_aliases).where(model_aliases.c.pattern == pattern))
            await conn.execute(sa.insert(model_aliases).values(**values))
            await bump_version(conn)
        return values

    async def remove(self, pattern: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.delete(model_aliases).where(model_aliases.c.pattern == pattern)
            )
            await bump_version(conn)
        return result.rowcount > 0

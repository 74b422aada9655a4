"""Fallback edges between public model names (which model serves when one fails)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._duplicate import DuplicateName
from lowart.store._rows import as_dict
from lowart.store._tables import model_fallbacks

__all__ = ["FallbackStore"]


class FallbackStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self) -> list[dict[str, Any]]:
        query = sa.select(model_fallbacks).order_by(
            model_fallbacks.c.model, model_fallbacks.c.priority, model_fallbacks.c.id
        )
        async with self._engine.connect() as conn:
            return [as_dict(row) for row in await conn.execute(query)]

    async def add(self, model: str, fallback: str, priority: int) -> dict[str, Any]:
        values = {
            "model": model,
            "fallback": fallback,
            "priority": priority,
            "created_at": datetime.now(UTC),
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(sa.insert(model_fallbacks).values(**values))
                await bump_version(conn)
        except IntegrityError as exc:
            raise DuplicateName(f"'{model}' already falls back to '{fallback}'") from exc
        return values

    async def remove(self, model: str, fallback: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.delete(model_fallbacks).where(
                    model_fallbacks.c.model == model, model_fallbacks.c.fallback == fallback
                )
            )
            await bump_version(conn)
        return result.rowcount > 0

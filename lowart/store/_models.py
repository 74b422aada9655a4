"""Model route rows: what each public model name maps to upstream."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._keys import DuplicateName
from lowart.store._tables import models

__all__ = ["ModelStore"]


class ModelStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, values: Mapping[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        row = {"created_at": now, "updated_at": now, **values}
        if values.get("script"):
            row["script_version"] = 1
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(sa.insert(models).values(**row))
                await bump_version(conn)
        except IntegrityError as exc:
            raise DuplicateName(f"a model named {values.get('name')!r} already exists") from exc
        del result
        return await self.get(values["name"])

    async def list(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(models).order_by(models.c.name))
            return [dict(row._mapping) for row in rows]

    async def get(self, name: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(models).where(models.c.name == name))).first()
            return dict(row._mapping) if row else None

    async def update(self, name: str, values: Mapping[str, Any]) -> bool:
        changes = dict(values)
        if "script" in changes:  # every change is a new version: compiled caches notice it
            changes["script_version"] = models.c.script_version + 1
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(models)
                .where(models.c.name == name)
                .values(**changes, updated_at=datetime.now(UTC))
            )
            await bump_version(conn)
        return result.rowcount > 0

    async def remove(self, name: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.delete(models).where(models.c.name == name))
            await bump_version(conn)
        return result.rowcount > 0

"""Model route rows: what each public model name maps to upstream.

A public name may have several rows (deployments) that share its traffic by
weight; a deployment is addressed by its row id.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._rows import as_dict, inserted_id
from lowart.store._tables import deployment_health, model_fallbacks, models

__all__ = ["ModelStore"]


def _target(name: str, deployment: int | None) -> sa.ColumnElement[bool]:
    where = models.c.name == name
    return where if deployment is None else sa.and_(where, models.c.id == deployment)


class ModelStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Add a deployment; adding a name that exists adds one more deployment of it."""
        now = datetime.now(UTC)
        row = {"created_at": now, "updated_at": now, **values}
        if values.get("script"):
            row["script_version"] = 1
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.insert(models).values(**row))
            await bump_version(conn)
        added = await self.get_by_id(inserted_id(result))
        assert added is not None, "the deployment just added"
        return added

    async def list(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(models).order_by(models.c.name, models.c.id))
            return [as_dict(row) for row in rows]

    async def get(self, name: str) -> dict[str, Any] | None:
        """The first deployment of `name` (the only one for most models)."""
        rows = await self.deployments(name)
        return rows[0] if rows else None

    async def get_by_id(self, deployment: int) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(models).where(models.c.id == deployment))).first()
            return as_dict(row) if row else None

    async def deployments(self, name: str) -> builtins.list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(models).where(models.c.name == name).order_by(models.c.id)
            )
            return [as_dict(row) for row in rows]

    async def update(
        self, name: str, values: Mapping[str, Any], deployment: int | None = None
    ) -> bool:
        changes = dict(values)
        if "script" in changes:  # every change is a new version: compiled caches notice it
            changes["script_version"] = models.c.script_version + 1
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(models)
                .where(_target(name, deployment))
                .values(**changes, updated_at=datetime.now(UTC))
            )
            await bump_version(conn)
        return result.rowcount > 0

    async def remove(self, name: str, deployment: int | None = None) -> bool:
        """Remove one deployment, or all of `name`; fallback edges go with the last one."""
        async with self._engine.begin() as conn:
            ids = list(
                (await conn.execute(sa.select(models.c.id).where(_target(name, deployment))))
                .scalars()
                .all()
            )
            if not ids:
                return False
            await conn.execute(sa.delete(models).where(models.c.id.in_(ids)))
            await conn.execute(
                sa.delete(deployment_health).where(deployment_health.c.model_id.in_(ids))
            )
            left = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(models).where(models.c.name == name)
                )
            ).scalar_one()
            if not left:
                await conn.execute(
                    sa.delete(model_fallbacks).where(
                        sa.or_(model_fallbacks.c.model == name, model_fallbacks.c.fallback == name)
                    )
                )
            await bump_version(conn)
        return True

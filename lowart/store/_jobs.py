"""Image generation jobs: one row each, updated as the generation moves on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._tables import image_jobs

__all__ = ["UNFINISHED", "JobStore"]

UNFINISHED = ("queued", "running")


class JobStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, **values: Any) -> dict[str, Any]:
        values.setdefault("created_at", datetime.now(UTC))
        async with self._engine.begin() as conn:
            await conn.execute(sa.insert(image_jobs).values(**values))
        return values

    async def update(self, job_id: str, *, only_unfinished: bool = False, **values: Any) -> bool:
        """Change a job; `only_unfinished` makes a final state stick (cancel vs. finish race)."""
        query = sa.update(image_jobs).where(image_jobs.c.id == job_id)
        if only_unfinished:
            query = query.where(image_jobs.c.status.in_(UNFINISHED))
        async with self._engine.begin() as conn:
            result = await conn.execute(query.values(**values))
        return result.rowcount > 0

    async def get(self, job_id: str, key_id: int | None = None) -> dict[str, Any] | None:
        query = sa.select(image_jobs).where(image_jobs.c.id == job_id)
        if key_id is not None:
            query = query.where(image_jobs.c.key_id == key_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return dict(row._mapping) if row else None

    async def list_for_key(self, key_id: int, limit: int = 100) -> list[dict[str, Any]]:
        query = (
            sa.select(image_jobs)
            .where(image_jobs.c.key_id == key_id)
            .order_by(image_jobs.c.created_at.desc(), image_jobs.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(query)]

    async def unfinished(self) -> list[dict[str, Any]]:
        query = sa.select(image_jobs).where(image_jobs.c.status.in_(UNFINISHED))
        async with self._engine.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(query)]

    # ---- leases: one gateway process follows each unfinished job ----------------------

    async def claim(self, job_id: str, owner: str, until: datetime) -> bool:
        """Take the lease of an unfinished job nobody holds (or whose holder stopped
        renewing it); False when another live process follows it."""
        now = datetime.now(UTC)
        query = (
            sa.update(image_jobs)
            .where(
                image_jobs.c.id == job_id,
                image_jobs.c.status.in_(UNFINISHED),
                sa.or_(
                    image_jobs.c.lease_owner.is_(None),
                    image_jobs.c.lease_owner == owner,
                    image_jobs.c.lease_until.is_(None),
                    image_jobs.c.lease_until < now,
                ),
            )
            .values(lease_owner=owner, lease_until=until)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(query)
        return result.rowcount > 0

    async def renew(self, owner: str, until: datetime) -> int:
        """Extend every lease `owner` holds on unfinished jobs; how many it holds."""
        query = (
            sa.update(image_jobs)
            .where(image_jobs.c.lease_owner == owner, image_jobs.c.status.in_(UNFINISHED))
            .values(lease_until=until)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(query)
        return int(result.rowcount)

    async def release(self, owner: str) -> None:
        """Give up `owner`'s leases (shutdown), so the next process resumes them at once."""
        query = (
            sa.update(image_jobs)
            .where(image_jobs.c.lease_owner == owner, image_jobs.c.status.in_(UNFINISHED))
            .values(lease_owner=None, lease_until=None)
        )
        async with self._engine.begin() as conn:
            await conn.execute(query)

"""The configuration version: bumped in the same transaction as every config change."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from lowart.store._tables import config_state

__all__ = ["bump_version", "read_version"]


async def bump_version(conn: AsyncConnection) -> None:
    await conn.execute(
        sa.update(config_state)
        .where(config_state.c.id == 1)
        .values(version=config_state.c.version + 1)
    )


async def read_version(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(config_state.c.version))).scalar_one())

"""Published circuit-breaker states, one row per deployment.

Breakers live in each gateway's memory; the state is written here on every
transition (rare, off the hot path) so the CLI, a separate process, can show it.
It does not bump the configuration version: health is not configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._rows import as_dict
from lowart.store._tables import deployment_health

__all__ = ["HealthStore"]


class HealthStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def publish(
        self, model_id: int, state: str, failures: int, calls: int, open_until: float | None
    ) -> None:
        values = {
            "model_id": model_id,
            "state": state,
            "failures": failures,
            "calls": calls,
            "open_until": datetime.fromtimestamp(open_until, UTC) if open_until else None,
            "updated_at": datetime.now(UTC),
        }
        stmt = self._insert(deployment_health).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["model_id"],
            set_={k: v for k, v in values.items() if k != "model_id"},
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def states(self) -> dict[int, dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(deployment_health))
            return {row.model_id: as_dict(row) for row in rows}

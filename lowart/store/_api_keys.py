"""API key rows: only hashes are stored; the key itself is shown once at creation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._duplicate import DuplicateName
from lowart.store._rows import as_dict, inserted_id
from lowart.store._tables import api_keys

__all__ = ["KeyStore"]


class KeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, **values: Any) -> dict[str, Any]:
        values.setdefault("created_at", datetime.now(UTC))
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(sa.insert(api_keys).values(**values))
                await bump_version(conn)
        except IntegrityError as exc:
            raise DuplicateName(f"a key named {values.get('name')!r} already exists") from exc
        return {**values, "id": inserted_id(result)}

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(api_keys))).scalar_one()
            )

    async def list(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(api_keys).order_by(api_keys.c.id))
            return [as_dict(row) for row in rows]

    async def find_active_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        query = sa.select(api_keys).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
            return as_dict(row) if row else None

    async def update(self, name: str, values: Mapping[str, Any]) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(api_keys).where(api_keys.c.name == name).values(**values)
            )
            await bump_version(conn)
        return result.rowcount > 0

    async def revoke(self, name: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            await bump_version(conn)
        return result.rowcount > 0

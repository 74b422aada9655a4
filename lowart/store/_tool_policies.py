"""Tool policies: `server.tool` glob -> auto | confirm | block, global or for one key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._rows import as_dict
from lowart.store._tables import mcp_tool_policies

__all__ = ["ToolPolicyStore"]


def _scope(pattern: str, key_id: int | None) -> sa.ColumnElement[bool]:
    key = (
        mcp_tool_policies.c.key_id.is_(None)
        if key_id is None
        else mcp_tool_policies.c.key_id == key_id
    )
    return sa.and_(mcp_tool_policies.c.pattern == pattern, key)


class ToolPolicyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self) -> list[dict[str, Any]]:
        query = sa.select(mcp_tool_policies).order_by(
            mcp_tool_policies.c.key_id, mcp_tool_policies.c.pattern
        )
        async with self._engine.connect() as conn:
            return [as_dict(row) for row in await conn.execute(query)]

    async def put(self, pattern: str, policy: str, key_id: int | None) -> dict[str, Any]:
        """Set the policy of `pattern` in that scope (replacing the one it had)."""
        values = {
            "pattern": pattern,
            "policy": policy,
            "key_id": key_id,
            "created_at": datetime.now(UTC),
        }
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(mcp_tool_policies).where(_scope(pattern, key_id)))
            await conn.execute(sa.insert(mcp_tool_policies).values(**values))
            await bump_version(conn)
        return values

    async def remove(self, pattern: str, key_id: int | None) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.delete(mcp_tool_policies).where(_scope(pattern, key_id)))
            await bump_version(conn)
        return result.rowcount > 0

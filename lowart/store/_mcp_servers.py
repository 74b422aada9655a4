"""Upstream MCP servers: the registry rows and the connection state gateways publish."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._config_version import bump_version
from lowart.store._duplicate import DuplicateName
from lowart.store._rows import as_dict, inserted_id
from lowart.store._tables import mcp_server_state, mcp_servers

__all__ = ["McpServerStore"]


class McpServerStore:
    """Registry writes bump the configuration version (every gateway follows them);
    state writes do not (they are what a gateway saw, not configuration)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(mcp_servers).order_by(mcp_servers.c.name))
            return [as_dict(row) for row in rows]

    async def get(self, name: str) -> dict[str, Any] | None:
        query = sa.select(mcp_servers).where(mcp_servers.c.name == name)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
            return as_dict(row) if row else None

    async def create(self, **values: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        values = {"created_at": now, "updated_at": now, **values}
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(sa.insert(mcp_servers).values(**values))
                await bump_version(conn)
        except IntegrityError as exc:
            raise DuplicateName(f"an MCP server named {values['name']!r} already exists") from exc
        return {**values, "id": inserted_id(result)}

    async def update(self, name: str, values: Mapping[str, Any]) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(mcp_servers)
                .where(mcp_servers.c.name == name)
                .values(**values, updated_at=datetime.now(UTC))
            )
            await bump_version(conn)
        return result.rowcount > 0

    async def remove(self, name: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.delete(mcp_servers).where(mcp_servers.c.name == name))
            await conn.execute(sa.delete(mcp_server_state).where(mcp_server_state.c.name == name))
            await bump_version(conn)
        return result.rowcount > 0

    async def states(self) -> dict[str, dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(mcp_server_state))
            return {row.name: as_dict(row) for row in rows}

    async def publish_state(
        self,
        name: str,
        state: str,
        tools: builtins.list[str],
        last_error: str | None,
        connected_since: datetime | None,
    ) -> None:
        values = {
            "state": state,
            "tool_count": len(tools),
            "tools": orjson.dumps(tools).decode(),
            "last_error": last_error[:300] if last_error else None,
            "connected_since": connected_since,
            "updated_at": datetime.now(UTC),
        }
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                sa.update(mcp_server_state).where(mcp_server_state.c.name == name).values(**values)
            )
            if not updated.rowcount:
                await conn.execute(sa.insert(mcp_server_state).values(name=name, **values))

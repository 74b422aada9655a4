"""Stored Responses API objects: one row per response, always read per key.

A row holds the Response as last written (a background run updates it as it
goes) and the conversation's input items up to it, so `previous_response_id`
is one read and `GET /v1/responses/{id}/input_items` lists them as stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._tables import responses

__all__ = ["ResponseStore", "StoredResponse"]

StoredResponse = tuple[dict[str, Any], list[dict[str, Any]]]
"""The Response object and the conversation's input items."""


class ResponseStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(
        self, key_id: int, response: dict[str, Any], input_items: list[dict[str, Any]]
    ) -> None:
        """Insert a response, or replace its state (and keep its items) when it exists."""
        now = datetime.now(UTC)
        values = {
            "status": str(response.get("status") or ""),
            "response": orjson.dumps(response).decode(),
            "updated_at": now,
        }
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                sa.update(responses)
                .where(responses.c.id == response["id"], responses.c.key_id == key_id)
                .values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    sa.insert(responses).values(
                        id=response["id"],
                        key_id=key_id,
                        input_items=orjson.dumps(input_items).decode(),
                        created_at=now,
                        **values,
                    )
                )

    async def get(self, key_id: int, response_id: str) -> StoredResponse | None:
        query = sa.select(responses.c.response, responses.c.input_items).where(
            responses.c.id == response_id, responses.c.key_id == key_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return orjson.loads(row.response), orjson.loads(row.input_items)

    async def delete(self, key_id: int, response_id: str) -> bool:
        query = sa.delete(responses).where(
            responses.c.id == response_id, responses.c.key_id == key_id
        )
        async with self._engine.begin() as conn:
            return (await conn.execute(query)).rowcount > 0

    async def prune(self, older_than: datetime) -> int:
        """Delete responses created before `older_than`; how many went."""
        query = sa.delete(responses).where(responses.c.created_at < older_than)
        async with self._engine.begin() as conn:
            return (await conn.execute(query)).rowcount

"""A2A tasks and their push webhooks: one row each, the protocol's JSON kept whole.

Every read and write names the key that owns the row, so another key's task is
simply not there. The documents are opaque here (the A2A frontend writes and
reads them); the columns beside them are what queries filter and sort on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._tables import a2a_push_configs, a2a_tasks

__all__ = ["AgentTaskStore", "StoredTask", "TaskPage"]


@dataclass(frozen=True, slots=True)
class StoredTask:
    id: str
    context_id: str
    route: str | None
    state: str
    document: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: list[StoredTask]
    total: int


def _task(row: Any) -> StoredTask:
    m = row._mapping
    updated = m["updated_at"]
    if updated.tzinfo is None:  # SQLite hands back naive datetimes
        updated = updated.replace(tzinfo=UTC)
    return StoredTask(
        m["id"], m["context_id"], m["route"], m["state"], orjson.loads(m["document"]), updated
    )


class AgentTaskStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # ---- tasks ---------------------------------------------------------------------

    async def save(
        self,
        key_id: int,
        task_id: str,
        *,
        context_id: str,
        route: str | None,
        state: str,
        document: dict[str, Any],
    ) -> bool:
        """Insert or update a task of `key_id`'s; False when the id is another key's."""
        now = datetime.now(UTC)
        text = orjson.dumps(document).decode()
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.update(a2a_tasks)
                .where(a2a_tasks.c.id == task_id, a2a_tasks.c.key_id == key_id)
                .values(context_id=context_id, state=state, document=text, updated_at=now)
            )
            if result.rowcount:
                return True
            taken = await conn.scalar(sa.select(a2a_tasks.c.id).where(a2a_tasks.c.id == task_id))
            if taken is not None:
                return False
            await conn.execute(
                sa.insert(a2a_tasks).values(
                    id=task_id,
                    key_id=key_id,
                    context_id=context_id,
                    route=route,
                    state=state,
                    document=text,
                    created_at=now,
                    updated_at=now,
                )
            )
        return True

    async def get(self, key_id: int, task_id: str) -> StoredTask | None:
        query = sa.select(a2a_tasks).where(a2a_tasks.c.id == task_id, a2a_tasks.c.key_id == key_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _task(row) if row else None

    async def page(
        self,
        key_id: int,
        *,
        context_id: str | None = None,
        state: str | None = None,
        updated_after: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TaskPage:
        """A page of the key's tasks, most recently updated first."""
        where = [a2a_tasks.c.key_id == key_id]
        if context_id:
            where.append(a2a_tasks.c.context_id == context_id)
        if state:
            where.append(a2a_tasks.c.state == state)
        if updated_after is not None:
            where.append(a2a_tasks.c.updated_at > updated_after)
        query = (
            sa.select(a2a_tasks)
            .where(*where)
            .order_by(a2a_tasks.c.updated_at.desc(), a2a_tasks.c.id)
            .limit(limit)
            .offset(offset)
        )
        count = sa.select(sa.func.count()).select_from(a2a_tasks).where(*where)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            total = int(await conn.scalar(count) or 0)
        return TaskPage([_task(row) for row in rows], total)

    async def conversation(self, key_id: int, context_id: str, limit: int) -> list[StoredTask]:
        """The key's latest `limit` tasks of one context, oldest first (earlier turns)."""
        query = (
            sa.select(a2a_tasks)
            .where(a2a_tasks.c.key_id == key_id, a2a_tasks.c.context_id == context_id)
            .order_by(a2a_tasks.c.created_at.desc(), a2a_tasks.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_task(row) for row in reversed(rows)]

    async def delete(self, key_id: int, task_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.delete(a2a_tasks).where(a2a_tasks.c.id == task_id, a2a_tasks.c.key_id == key_id)
            )
            await conn.execute(
                sa.delete(a2a_push_configs).where(
                    a2a_push_configs.c.task_id == task_id, a2a_push_configs.c.key_id == key_id
                )
            )

    async def prune(self, before: datetime) -> int:
        """Tasks last changed before `before` go, with their webhooks."""
        old = sa.select(a2a_tasks.c.id).where(a2a_tasks.c.updated_at < before)
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.delete(a2a_push_configs).where(a2a_push_configs.c.task_id.in_(old))
            )
            result = await conn.execute(sa.delete(a2a_tasks).where(a2a_tasks.c.updated_at < before))
        return int(result.rowcount or 0)

    # ---- push webhooks -------------------------------------------------------------

    async def set_push(
        self, key_id: int, task_id: str, config_id: str, document: dict[str, Any]
    ) -> None:
        text = orjson.dumps(document).decode()
        key = (a2a_push_configs.c.task_id == task_id, a2a_push_configs.c.config_id == config_id)
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(a2a_push_configs).where(*key))
            await conn.execute(
                sa.insert(a2a_push_configs).values(
                    task_id=task_id,
                    config_id=config_id,
                    key_id=key_id,
                    document=text,
                    created_at=datetime.now(UTC),
                )
            )

    async def pushes(self, task_id: str, key_id: int | None = None) -> list[dict[str, Any]]:
        """A task's webhooks: the key's own, or all of them (`key_id` None, for delivery)."""
        query = sa.select(a2a_push_configs.c.document).where(a2a_push_configs.c.task_id == task_id)
        if key_id is not None:
            query = query.where(a2a_push_configs.c.key_id == key_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(a2a_push_configs.c.created_at))).all()
        return [orjson.loads(row[0]) for row in rows]

    async def delete_push(self, key_id: int, task_id: str, config_id: str | None) -> None:
        where = [a2a_push_configs.c.task_id == task_id, a2a_push_configs.c.key_id == key_id]
        if config_id is not None:
            where.append(a2a_push_configs.c.config_id == config_id)
        async with self._engine.begin() as conn:
            await conn.execute(sa.delete(a2a_push_configs).where(*where))

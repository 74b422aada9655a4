"""The agent-task service over the store, scoped to the calling key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lowart.store import AgentTaskStore, StoredTask, TaskPage
from lowart.types import Principal

__all__ = ["AgentTasks", "StoredTask", "TaskPage"]

# Most earlier tasks a continued conversation brings back (each may hold several turns).
MAX_CONVERSATION_TASKS = 50


class AgentTasks:
    def __init__(self, store: AgentTaskStore) -> None:
        self._store = store

    async def save(
        self,
        principal: Principal,
        task_id: str,
        *,
        context_id: str,
        route: str | None,
        state: str,
        document: dict[str, Any],
    ) -> bool:
        """Write the caller's task; False (nothing written) when the id is another key's."""
        return await self._store.save(
            principal.key_id,
            task_id,
            context_id=context_id,
            route=route,
            state=state,
            document=document,
        )

    async def get(self, principal: Principal, task_id: str) -> StoredTask | None:
        return await self._store.get(principal.key_id, task_id)

    async def page(
        self,
        principal: Principal,
        *,
        context_id: str | None = None,
        state: str | None = None,
        updated_after: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TaskPage:
        return await self._store.page(
            principal.key_id,
            context_id=context_id,
            state=state,
            updated_after=updated_after,
            limit=limit,
            offset=offset,
        )

    async def conversation(self, principal: Principal, context_id: str) -> list[StoredTask]:
        """The caller's earlier tasks of a context, oldest first."""
        return await self._store.conversation(principal.key_id, context_id, MAX_CONVERSATION_TASKS)

    async def delete(self, principal: Principal, task_id: str) -> None:
        await self._store.delete(principal.key_id, task_id)

    async def prune(self, before: datetime) -> int:
        return await self._store.prune(before)

    # ---- push webhooks -------------------------------------------------------------

    async def set_push(
        self, principal: Principal, task_id: str, config_id: str, document: dict[str, Any]
    ) -> None:
        await self._store.set_push(principal.key_id, task_id, config_id, document)

    async def pushes(self, principal: Principal, task_id: str) -> list[dict[str, Any]]:
        return await self._store.pushes(task_id, principal.key_id)

    async def pushes_for_delivery(self, task_id: str) -> list[dict[str, Any]]:
        """Every webhook of a task (registration already checked who set it)."""
        return await self._store.pushes(task_id)

    async def delete_push(self, principal: Principal, task_id: str, config_id: str | None) -> None:
        await self._store.delete_push(principal.key_id, task_id, config_id)

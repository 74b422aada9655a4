"""A2A tasks in the database: per key, paged, a conversation in order, pruned.
The same scenario runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from lowart.agents import AgentTasks
from lowart.store import AgentTaskStore, migrate, open_engine
from lowart.store._tables import a2a_tasks
from lowart.types import Principal

OWNER, OTHER = Principal(key_id=1, name="owner"), Principal(key_id=2, name="other")


async def _scenario(url: str) -> None:
    engine = open_engine(url)
    try:
        await migrate(engine)
        tasks = AgentTasks(AgentTaskStore(engine))

        async def save(principal: Principal, task_id: str, context: str, state: str) -> bool:
            document = {"id": task_id, "contextId": context, "status": {"state": state}}
            return await tasks.save(
                principal, task_id, context_id=context, route="r", state=state, document=document
            )

        assert await save(OWNER, "t1", "c1", "TASK_STATE_COMPLETED")
        assert await save(OWNER, "t2", "c1", "TASK_STATE_WORKING")
        assert await save(OWNER, "t3", "c2", "TASK_STATE_COMPLETED")
        # Another key can neither take over nor see the owner's task.
        assert not await save(OTHER, "t1", "c9", "TASK_STATE_FAILED")
        assert await tasks.get(OTHER, "t1") is None
        stored = await tasks.get(OWNER, "t1")
        assert stored is not None and stored.context_id == "c1"
        assert stored.document["status"]["state"] == "TASK_STATE_COMPLETED"
        # An update keeps the row, changes the state.
        assert await save(OWNER, "t2", "c1", "TASK_STATE_COMPLETED")
        page = await tasks.page(OWNER, context_id="c1")
        assert page.total == 2 and {t.id for t in page.tasks} == {"t1", "t2"}
        page = await tasks.page(OWNER, limit=2, offset=2)
        assert page.total == 3 and len(page.tasks) == 1
        assert (await tasks.page(OTHER)).total == 0
        assert [t.id for t in await tasks.conversation(OWNER, "c1")] == ["t1", "t2"]
        assert await tasks.conversation(OTHER, "c1") == []
        # Webhooks: the owner's own, and all of them for delivery.
        await tasks.set_push(OWNER, "t2", "p1", {"url": "https://example.invalid/hook"})
        assert await tasks.pushes(OTHER, "t2") == []
        assert [p["url"] for p in await tasks.pushes_for_delivery("t2")] == [
            "https://example.invalid/hook"
        ]
        # Retention: tasks not changed for long go, with their webhooks.
        long_ago = datetime.now(UTC) - timedelta(days=40)
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(a2a_tasks).where(a2a_tasks.c.id == "t2").values(updated_at=long_ago)
            )
        assert await tasks.prune(datetime.now(UTC) - timedelta(days=30)) == 1
        assert await tasks.get(OWNER, "t2") is None
        assert await tasks.pushes_for_delivery("t2") == []
        assert (await tasks.page(OWNER)).total == 2
    finally:
        await engine.dispose()


async def test_agent_tasks_on_sqlite(tmp_path):
    await _scenario(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")


def test_agent_tasks_on_postgres(postgres_url, loop_thread):
    loop_thread.run(_scenario(postgres_url))

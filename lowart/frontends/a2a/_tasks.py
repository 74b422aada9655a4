"""The SDK's task store, kept by lowart's AgentTasks service.

Tasks are written as the protocol's JSON (`MessageToDict`) and read back with
`ParseDict`, so the database holds what a client would see. Every call is
scoped to the admitted key: another key's task is not found, and its id cannot
be taken over (a save on it is refused).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC

from a2a.server.context import ServerCallContext
from a2a.server.tasks import TaskStore
from a2a.types.a2a_pb2 import (
    ListTasksRequest,
    ListTasksResponse,
    Task,
    TaskState,
)
from a2a.utils.errors import InvalidParamsError
from google.protobuf.json_format import MessageToDict, ParseDict

from lowart.agents import AgentTasks
from lowart.frontends.a2a._caller import ROUTE, principal_of
from lowart.types import Principal

__all__ = ["DEFAULT_PAGE_SIZE", "FINAL_STATES", "DatabaseTasks"]

log = logging.getLogger("lowart.a2a")

DEFAULT_PAGE_SIZE = 50
_FINISHED_KEPT = 512
FLUSH_SECONDS = 0.25  # a running task's changes reach the database at most this late
FINAL_STATES = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_REJECTED,
    }
)
MAX_PAGE_SIZE = 100


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode()


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        if text.startswith("o") and text[1:].isdigit():
            return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidParamsError(message="The page token is not one this server gave out.")


@dataclass
class _Live:
    """A task this process is running: its latest state, written to the database
    at once when it starts and ends, and in between at most every FLUSH_SECONDS."""

    principal: Principal
    route: str | None
    task: Task
    flush: asyncio.TimerHandle | None = None
    writing: asyncio.Task[None] | None = None


class DatabaseTasks(TaskStore):
    """The SDK saves a task on every event (each status change, each artifact piece)
    and reads it back several times per message. Running tasks are therefore kept in
    memory here: reads of them are free, a task's first and final states are written
    at once, and the states in between are written behind, at most every
    FLUSH_SECONDS (a reader on another process sees them that much later). A
    process that stops writes what it holds (`flush`). A finished task never changes
    again, so the last few hundred are kept too (the SDK reads a task back as it ends)."""

    def __init__(self, tasks: AgentTasks) -> None:
        self._tasks = tasks
        self._live: dict[str, _Live] = {}
        self._finished: OrderedDict[str, tuple[int, Task]] = OrderedDict()

    async def save(self, task: Task, context: ServerCallContext) -> None:
        principal = principal_of(context)
        live = self._live.get(task.id)
        if live is not None and live.principal.key_id == principal.key_id:
            live.task = _copy(task)
            if task.status.state in FINAL_STATES:
                del self._live[task.id]
                if live.flush is not None:
                    live.flush.cancel()
                await self._write(live)
                self._remember(principal, live.task)
            elif live.flush is None:
                loop = asyncio.get_running_loop()
                live.flush = loop.call_later(FLUSH_SECONDS, self._flush_later, task.id)
            return
        live = _Live(principal, context.state.get(ROUTE), _copy(task))
        await self._write(live, first=True)
        if task.status.state not in FINAL_STATES:
            self._live[task.id] = live
        else:
            self._remember(principal, live.task)

    def _remember(self, principal: Principal, task: Task) -> None:
        self._finished[task.id] = (principal.key_id, task)
        while len(self._finished) > _FINISHED_KEPT:
            self._finished.popitem(last=False)

    def _flush_later(self, task_id: str) -> None:
        live = self._live.get(task_id)
        if live is None:
            return
        live.flush = None
        live.writing = asyncio.create_task(
            self._write(live, behind=True), name="lowart-a2a-task-write"
        )

    async def _write(self, live: _Live, *, first: bool = False, behind: bool = False) -> None:
        if live.writing is not None and not behind:
            with contextlib.suppress(Exception):
                await live.writing  # a write behind must not land after this one
        task = live.task
        try:
            saved = await self._tasks.save(
                live.principal,
                task.id,
                context_id=task.context_id,
                route=live.route,
                state=TaskState.Name(task.status.state),
                document=MessageToDict(task),
            )
        except Exception:
            if first:
                raise
            log.exception("writing A2A task %s failed", task.id)
            return
        if not saved:  # an id another key owns: never overwrite it
            raise InvalidParamsError(message=f"Task id '{task.id}' cannot be used.")

    async def flush(self) -> None:
        """Write every running task's latest state (the process is stopping)."""
        for live in list(self._live.values()):
            if live.flush is not None:
                live.flush.cancel()
                live.flush = None
            await self._write(live)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        principal = principal_of(context)
        live = self._live.get(task_id)
        if live is not None and live.principal.key_id == principal.key_id:
            return _copy(live.task)
        finished = self._finished.get(task_id)
        if finished is not None and finished[0] == principal.key_id:
            return _copy(finished[1])
        stored = await self._tasks.get(principal, task_id)
        if stored is None:
            return None
        return ParseDict(stored.document, Task(), ignore_unknown_fields=True)

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        size = params.page_size if params.HasField("page_size") else DEFAULT_PAGE_SIZE
        size = max(1, min(size, MAX_PAGE_SIZE))
        offset = _offset(params.page_token)
        after = (
            params.status_timestamp_after.ToDatetime(tzinfo=UTC)
            if params.HasField("status_timestamp_after")
            else None
        )
        page = await self._tasks.page(
            principal_of(context),
            context_id=params.context_id or None,
            state=TaskState.Name(params.status) if params.status else None,
            updated_after=after,
            limit=size,
            offset=offset,
        )
        more = offset + len(page.tasks) < page.total
        return ListTasksResponse(
            tasks=[ParseDict(t.document, Task(), ignore_unknown_fields=True) for t in page.tasks],
            next_page_token=_page_token(offset + size) if more else "",
            page_size=size,
            total_size=page.total,
        )

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        principal = principal_of(context)
        if self._finished.get(task_id, (None,))[0] == principal.key_id:
            del self._finished[task_id]
        live = self._live.get(task_id)
        if live is not None and live.principal.key_id == principal.key_id:
            del self._live[task_id]
            if live.flush is not None:
                live.flush.cancel()
        await self._tasks.delete(principal, task_id)


def _copy(task: Task) -> Task:
    copied = Task()
    copied.CopyFrom(task)
    return copied

"""The SDK's task and push-config stores, kept by lowart's AgentTasks service.

Tasks are written as the protocol's JSON (`MessageToDict`) and read back with
`ParseDict`, so the database holds what a client would see. Every call is
scoped to the admitted key: another key's task is not found, and its id cannot
be taken over (a save on it is refused).
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC

from a2a.server.context import ServerCallContext
from a2a.server.tasks import PushNotificationConfigStore, TaskStore
from a2a.server.tasks.push_notification_config_store import (
    normalize_push_notification_config,
)
from a2a.types.a2a_pb2 import (
    ListTasksRequest,
    ListTasksResponse,
    Task,
    TaskPushNotificationConfig,
    TaskState,
)
from a2a.utils.errors import InvalidParamsError
from google.protobuf.json_format import MessageToDict, ParseDict

from lowart.agents import AgentTasks
from lowart.frontends.a2a._caller import ROUTE, principal_of

__all__ = ["DEFAULT_PAGE_SIZE", "DatabasePushConfigs", "DatabaseTasks"]

log = logging.getLogger("lowart.a2a")

DEFAULT_PAGE_SIZE = 50
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


class DatabaseTasks(TaskStore):
    def __init__(self, tasks: AgentTasks) -> None:
        self._tasks = tasks

    async def save(self, task: Task, context: ServerCallContext) -> None:
        principal = principal_of(context)
        saved = await self._tasks.save(
            principal,
            task.id,
            context_id=task.context_id,
            route=context.state.get(ROUTE),
            state=TaskState.Name(task.status.state),
            document=MessageToDict(task),
        )
        if not saved:  # an id another key owns: never overwrite it
            raise InvalidParamsError(message=f"Task id '{task.id}' cannot be used.")

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        stored = await self._tasks.get(principal_of(context), task_id)
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
        await self._tasks.delete(principal_of(context), task_id)


class DatabasePushConfigs(PushNotificationConfigStore):
    def __init__(self, tasks: AgentTasks) -> None:
        self._tasks = tasks

    async def set_info(
        self,
        task_id: str,
        notification_config: TaskPushNotificationConfig,
        context: ServerCallContext,
    ) -> TaskPushNotificationConfig:
        config = normalize_push_notification_config(task_id, notification_config)
        await self._tasks.set_push(principal_of(context), task_id, config.id, MessageToDict(config))
        return config

    async def get_info(
        self, task_id: str, context: ServerCallContext
    ) -> list[TaskPushNotificationConfig]:
        documents = await self._tasks.pushes(principal_of(context), task_id)
        return [_config(d) for d in documents]

    async def get_info_for_dispatch(self, task_id: str) -> list[TaskPushNotificationConfig]:
        return [_config(d) for d in await self._tasks.pushes_for_delivery(task_id)]

    async def delete_info(
        self, task_id: str, context: ServerCallContext, config_id: str | None = None
    ) -> None:
        await self._tasks.delete_push(principal_of(context), task_id, config_id)


def _config(document: dict[str, object]) -> TaskPushNotificationConfig:
    return ParseDict(document, TaskPushNotificationConfig(), ignore_unknown_fields=True)

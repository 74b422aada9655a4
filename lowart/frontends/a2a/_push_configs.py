"""The SDK's push-notification config store, kept by lowart's AgentTasks service.

A webhook belongs to the key that set it (another key neither sees nor removes
it); delivery reads every webhook of a task. A task takes at most
MAX_WEBHOOKS_PER_TASK: each state change is one call to each of them.
"""

from __future__ import annotations

from a2a.server.context import ServerCallContext
from a2a.server.tasks import PushNotificationConfigStore
from a2a.server.tasks.push_notification_config_store import (
    normalize_push_notification_config,
)
from a2a.types.a2a_pb2 import TaskPushNotificationConfig
from a2a.utils.errors import InvalidParamsError
from google.protobuf.json_format import MessageToDict, ParseDict

from lowart.agents import AgentTasks
from lowart.frontends.a2a._caller import principal_of

__all__ = ["MAX_WEBHOOKS_PER_TASK", "DatabasePushConfigs"]

MAX_WEBHOOKS_PER_TASK = 10


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
        principal = principal_of(context)
        others = [
            d for d in await self._tasks.pushes(principal, task_id) if d.get("id") != config.id
        ]
        if len(others) >= MAX_WEBHOOKS_PER_TASK:
            raise InvalidParamsError(
                message=f"A task may have at most {MAX_WEBHOOKS_PER_TASK} push webhooks."
            )
        await self._tasks.set_push(principal, task_id, config.id, MessageToDict(config))
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

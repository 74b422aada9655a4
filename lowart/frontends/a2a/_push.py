"""Push notifications: the client's webhook hears of its task's state changes.

Best effort and never in the task's way: `send_notification` only queues the
event; one delivery worker per task posts them in order (state changes and the
final task, not every streamed token), each call bounded by a timeout and
retried a few times with backoff. A webhook may not point at loopback,
link-local, private or otherwise non-public addresses (SSRF: a key holder must
not reach lowart's own network through it) unless the operator allows it
(`LOWART_A2A_PUSH_ALLOW_PRIVATE=1`); the address is checked when the webhook
is set and again before each delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from a2a.server.tasks import PushNotificationConfigStore, PushNotificationSender
from a2a.server.tasks.push_notification_sender import PushNotificationEvent
from a2a.types.a2a_pb2 import TaskArtifactUpdateEvent, TaskPushNotificationConfig
from a2a.utils.proto_utils import to_stream_response
from a2a.utils.push_url_validator import validate_push_notification_url
from google.protobuf.json_format import MessageToDict

__all__ = ["PushDelivery", "push_url_allowed"]

log = logging.getLogger("lowart.a2a")

_MAX_QUEUED_PER_TASK = 64  # a webhook this far behind loses the oldest news first
_IDLE_SECONDS = 30.0  # a task's worker ends after this long with nothing to send
_TOKEN_HEADER = "X-A2A-Notification-Token"


async def push_url_allowed(url: str, *, allow_private: bool) -> bool:
    """http(s) only; public addresses only unless the operator allows private ones."""
    if allow_private:
        return url.startswith(("http://", "https://"))
    return await validate_push_notification_url(url)


class PushDelivery(PushNotificationSender):
    def __init__(
        self,
        configs: PushNotificationConfigStore,
        *,
        allow_private: bool,
        timeout: float,
        attempts: int,
    ) -> None:
        self._configs = configs
        self._allow_private = allow_private
        self._attempts = attempts
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._queues: dict[str, asyncio.Queue[PushNotificationEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    async def send_notification(self, task_id: str, event: PushNotificationEvent) -> None:
        if isinstance(event, TaskArtifactUpdateEvent):
            return  # tokens are for streams; webhooks hear of state changes
        queue = self._queues.get(task_id)
        if queue is None:
            queue = self._queues[task_id] = asyncio.Queue(_MAX_QUEUED_PER_TASK)
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(event)
        if task_id not in self._workers:
            worker = asyncio.create_task(self._deliver(task_id, queue), name="lowart-a2a-push")
            self._workers[task_id] = worker

    async def _deliver(self, task_id: str, queue: asyncio.Queue[PushNotificationEvent]) -> None:
        try:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), _IDLE_SECONDS)
                except TimeoutError:
                    return
                try:
                    configs = await self._configs.get_info_for_dispatch(task_id)
                except Exception:
                    log.exception("reading the webhooks of A2A task %s failed", task_id)
                    continue
                body = MessageToDict(to_stream_response(event))
                await asyncio.gather(*(self._post(task_id, c, body) for c in configs))
        finally:
            self._workers.pop(task_id, None)
            if self._queues.get(task_id) is queue and queue.empty():
                del self._queues[task_id]

    async def _post(self, task_id: str, config: TaskPushNotificationConfig, body: object) -> None:
        if not await push_url_allowed(config.url, allow_private=self._allow_private):
            log.warning("A2A task %s: webhook refused (not a public http(s) address)", task_id)
            return
        headers = {_TOKEN_HEADER: config.token} if config.token else {}
        auth = config.authentication
        if config.HasField("authentication") and auth.scheme and auth.credentials:
            headers["Authorization"] = f"{auth.scheme} {auth.credentials}"
        for attempt in range(self._attempts):
            try:
                response = await self._client.post(config.url, json=body, headers=headers)
                if response.status_code < 500:
                    if response.status_code >= 400:
                        log.warning(
                            "A2A task %s: webhook answered %d", task_id, response.status_code
                        )
                    return
            except httpx.HTTPError as exc:
                log.info("A2A task %s: webhook call failed: %s", task_id, type(exc).__name__)
            if attempt + 1 < self._attempts:
                await asyncio.sleep(0.5 * 2**attempt)
        log.warning("A2A task %s: webhook gave up after %d tries", task_id, self._attempts)

    async def close(self) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await self._client.aclose()

"""Push notifications: the client's webhook hears of state changes, with its token."""

from __future__ import annotations

import asyncio

import pytest
from a2a.types.a2a_pb2 import (
    GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import InvalidParamsError
from aiohttp import web

from tests.frontends.a2a.conftest import agent, start_a2a_gateway, user_message
from tests.support.servers import stop_gateway


class Webhook:
    """A client's webhook on loopback: records what it is sent; can fail at first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[str | None, dict]] = []
        self.fail_first = fail_first
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503)
        self.received.append(
            (request.headers.get("X-A2A-Notification-Token"), await request.json())
        )
        return web.Response(status=204)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def states(webhook: Webhook) -> list[str]:
    found = []
    for _, body in webhook.received:
        if "statusUpdate" in body:
            found.append(body["statusUpdate"]["status"]["state"])
        elif "task" in body:
            found.append(body["task"]["status"]["state"])
    return found


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON", "GRPC"])
async def test_webhook_hears_each_state_change_with_its_token(a2a_gateway, loop_thread, binding):
    webhook = Webhook(fail_first=1)  # the first delivery is retried
    loop_thread.run(webhook.start())
    try:
        async with agent(a2a_gateway, "slow", binding) as caller:
            config = TaskPushNotificationConfig(url=webhook.url, token="client-token")
            request = SendMessageRequest(
                message=user_message("notify me"),
                configuration=SendMessageConfiguration(task_push_notification_config=config),
            )
            task = (await caller.events(request))[0].task
            for _ in range(100):
                if "TASK_STATE_COMPLETED" in states(webhook):
                    break
                await asyncio.sleep(0.05)
            assert states(webhook)[-1] == "TASK_STATE_COMPLETED"
            assert "TASK_STATE_WORKING" in states(webhook)
            assert {token for token, _ in webhook.received} == {"client-token"}
            listed = await caller.client.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id=task.id), context=caller.ctx
            )
            assert [c.url for c in listed.configs] == [webhook.url]
            got = await caller.client.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=task.id, id=listed.configs[0].id),
                context=caller.ctx,
            )
            assert got.token == "client-token"
    finally:
        loop_thread.run(webhook.stop())


async def test_private_webhooks_are_refused_unless_allowed(loop_thread, tmp_path, short_dir):
    handle = start_a2a_gateway(loop_thread, tmp_path, short_dir, a2a_push_allow_private=False)
    try:
        async with agent(handle, "echo", "JSONRPC") as caller:
            task = (await caller.send("hello"))[0].task
            for url in (
                "http://127.0.0.1:9/hook",
                "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.1/hook",
                "http://[::1]/hook",
                "file:///etc/passwd",
            ):
                config = TaskPushNotificationConfig(task_id=task.id, url=url)
                with pytest.raises(InvalidParamsError):
                    await caller.client.create_task_push_notification_config(
                        config, context=caller.ctx
                    )
    finally:
        stop_gateway(handle)


async def test_a_task_takes_at_most_ten_webhooks(a2a_gateway):
    async with agent(a2a_gateway, "echo", "HTTP+JSON") as caller:
        task = (await caller.send("hello"))[0].task
        for i in range(10):
            config = TaskPushNotificationConfig(
                task_id=task.id, id=f"hook-{i}", url=f"http://127.0.0.1:9/{i}"
            )
            await caller.client.create_task_push_notification_config(config, context=caller.ctx)
        again = TaskPushNotificationConfig(task_id=task.id, id="hook-3", url="http://127.0.0.1:9/x")
        await caller.client.create_task_push_notification_config(again, context=caller.ctx)
        extra = TaskPushNotificationConfig(
            task_id=task.id, id="hook-10", url="http://127.0.0.1:9/y"
        )
        with pytest.raises(InvalidParamsError, match="at most 10"):
            await caller.client.create_task_push_notification_config(extra, context=caller.ctx)

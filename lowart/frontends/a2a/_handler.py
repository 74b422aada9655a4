"""The request handler every binding calls: admit the caller, then the SDK's handler.

Admission, once for all three bindings: the key (gRPC presents it here; the HTTP
bindings were authenticated in aiohttp already), and for SendMessage the route
the message goes to (the URL's `/a2a/{model}` or, on gRPC and the gateway-wide
JSON-RPC endpoint, the request's `tenant`) and that the key may use it. Task
reads, cancels and subscriptions need no route: a task belongs to its key.

A refusal on gRPC is a gRPC status (UNAUTHENTICATED, NOT_FOUND,
PERMISSION_DENIED); on HTTP an unknown or forbidden tenant is an A2A
InvalidParams error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from a2a.server.context import ServerCallContext
from a2a.server.events import Event
from a2a.server.request_handlers import RequestHandler
from a2a.types.a2a_pb2 import (
    AgentCard,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import InvalidParamsError

from lowart.errors import AuthenticationFailed, GatewayError
from lowart.frontends.a2a._caller import MODEL, PRESENTED_KEY, PRINCIPAL, ROUTE, KeyUser
from lowart.gateway import Gateway

__all__ = ["AdmittingHandler"]


class AdmittingHandler(RequestHandler):
    def __init__(self, gateway: Gateway, inner: RequestHandler) -> None:
        self._gateway = gateway
        self._inner = inner

    async def _refuse(self, context: ServerCallContext, exc: GatewayError) -> None:
        grpc_context: Any = context.state.get("grpc_context")
        if grpc_context is not None:
            import grpc  # loaded already: the call came over gRPC

            code = getattr(grpc.StatusCode, exc.grpc_code, grpc.StatusCode.INVALID_ARGUMENT)
            await grpc_context.abort(code, exc.message)
        raise InvalidParamsError(message=exc.message) from exc

    async def _admit(self, context: ServerCallContext, *, route: bool = False) -> None:
        if PRINCIPAL not in context.state:
            try:
                principal = await self._gateway.authenticate(context.state.get(PRESENTED_KEY))
            except AuthenticationFailed as exc:
                await self._refuse(context, exc)
                return
            context.state[PRINCIPAL] = principal
            context.user = KeyUser(principal)
        if not route:
            return
        named, tenant = context.state.get(MODEL), context.tenant
        if named and tenant and tenant != named:
            raise InvalidParamsError(
                message=f"The tenant '{tenant}' differs from the agent's route '{named}'."
            )
        model = named or tenant
        if not model:
            raise InvalidParamsError(
                message="Name the route: call /a2a/{model}, or set the request's tenant to it."
            )
        try:
            context.state[ROUTE] = self._gateway.route_for(context.state[PRINCIPAL], model).name
        except GatewayError as exc:
            await self._refuse(context, exc)

    # ---- the protocol's methods ------------------------------------------------------

    async def on_message_send(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> Task | Message:
        await self._admit(context, route=True)
        return await self._inner.on_message_send(params, context)

    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        await self._admit(context, route=True)
        async for event in self._inner.on_message_send_stream(params, context):
            yield event

    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task | None:
        await self._admit(context)
        return await self._inner.on_get_task(params, context)

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        await self._admit(context)
        return await self._inner.on_list_tasks(params, context)

    async def on_cancel_task(
        self, params: CancelTaskRequest, context: ServerCallContext
    ) -> Task | None:
        await self._admit(context)
        return await self._inner.on_cancel_task(params, context)

    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        await self._admit(context)
        async for event in self._inner.on_subscribe_to_task(params, context):
            yield event

    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        await self._admit(context)
        return await self._inner.on_create_task_push_notification_config(params, context)

    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        await self._admit(context)
        return await self._inner.on_get_task_push_notification_config(params, context)

    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        await self._admit(context)
        return await self._inner.on_list_task_push_notification_configs(params, context)

    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        await self._admit(context)
        await self._inner.on_delete_task_push_notification_config(params, context)

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        await self._admit(context)
        return await self._inner.on_get_extended_agent_card(params, context)

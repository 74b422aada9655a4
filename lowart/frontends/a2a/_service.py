"""The A2A agents of one gateway process: the SDK's request handler over lowart.

Built once by the composition root and shared by the HTTP and gRPC bindings, so
a task started over one binding can be read, cancelled or resubscribed over
another. The SDK does the protocol (task lifecycle, streams, resubscription,
push configuration); lowart supplies the executor (Gateway calls), the stores
(AgentTasks service, per key) and the push delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from a2a.helpers import new_text_message
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.types.a2a_pb2 import AgentCard, Task, TaskState, TaskStatus
from google.protobuf.json_format import MessageToDict, ParseDict

from lowart.agents import AgentTasks
from lowart.config import Settings
from lowart.frontends.a2a._caller import BASE_URL, principal_of
from lowart.frontends.a2a._cards import Endpoints, gateway_card, route_card, route_skill
from lowart.frontends.a2a._executor import RouteExecutor
from lowart.frontends.a2a._handler import AdmittingHandler
from lowart.frontends.a2a._push import PushDelivery, push_url_allowed
from lowart.frontends.a2a._push_configs import DatabasePushConfigs
from lowart.frontends.a2a._tasks import FINAL_STATES, DatabaseTasks
from lowart.gateway import Gateway
from lowart.types import Principal

__all__ = ["A2aAgents"]

_FINAL_STATE_NAMES = frozenset(TaskState.Name(state) for state in FINAL_STATES)


class A2aAgents:
    def __init__(
        self,
        gateway: Gateway,
        tasks: AgentTasks,
        settings: Settings,
        grpc_targets: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self._grpc_targets = grpc_targets
        configs = DatabasePushConfigs(tasks)
        allow_private = settings.a2a_push_allow_private
        self._push = PushDelivery(
            configs,
            allow_private=allow_private,
            timeout=settings.a2a_push_timeout,
            attempts=settings.a2a_push_attempts,
        )

        async def url_allowed(url: str) -> bool:
            return await push_url_allowed(url, allow_private=allow_private)

        self._tasks = tasks
        self._store = DatabaseTasks(tasks)
        self._executor = RouteExecutor(gateway, tasks)
        self._inner = DefaultRequestHandlerV2(
            agent_executor=self._executor,
            task_store=self._store,
            agent_card=gateway_card(Endpoints("http://localhost")),
            push_config_store=configs,
            push_sender=self._push,
            extended_agent_card=gateway_card(Endpoints("http://localhost")),
            extended_card_modifier=self._extended_card,
            push_url_validator=url_allowed,
        )
        self.handler = AdmittingHandler(gateway, self._inner)

    def endpoints(self, base_url: str) -> Endpoints:
        return Endpoints(base_url.rstrip("/"), tuple(self._grpc_targets()))

    def gateway_card(self, base_url: str) -> AgentCard:
        return gateway_card(self.endpoints(base_url))

    def route_card(self, principal: Principal, model: str, base_url: str) -> AgentCard:
        """A route's card for a key that may use it (raises NotFound / PermissionDenied)."""
        route = self.gateway.route_for(principal, model)
        return route_card(route.name, self.gateway.model_kind(route), self.endpoints(base_url))

    async def _extended_card(self, card: AgentCard, context: ServerCallContext) -> AgentCard:
        """The gateway card with the routes this key may use as skills."""
        principal = principal_of(context)
        base_url = context.state.get(BASE_URL) or self.settings.public_url or "http://localhost"
        extended = self.gateway_card(base_url)
        del extended.skills[:]
        for route in sorted(self.gateway.models_for(principal), key=lambda r: r.name):
            extended.skills.append(route_skill(route.name, self.gateway.model_kind(route)))
        return extended

    async def close(self) -> None:
        """Stop the tasks still running; they are marked failed, not left `working`
        forever (nothing would ever finish them once this process is gone)."""
        running = dict(self._executor.running)
        await self._inner.aclose()
        await self._store.flush()
        for task_id, principal in running.items():
            await self._mark_interrupted(principal, task_id)
        await self._push.close()

    async def _mark_interrupted(self, principal: Principal, task_id: str) -> None:
        stored = await self._tasks.get(principal, task_id)
        if stored is None or stored.state in _FINAL_STATE_NAMES:
            return
        task = ParseDict(stored.document, Task(), ignore_unknown_fields=True)
        task.status.CopyFrom(
            TaskStatus(
                state=TaskState.TASK_STATE_FAILED,
                message=new_text_message(
                    "The gateway stopped before this task finished; send the message again.",
                    context_id=task.context_id,
                    task_id=task_id,
                ),
            )
        )
        task.status.timestamp.GetCurrentTime()
        await self._tasks.save(
            principal,
            task_id,
            context_id=task.context_id,
            route=stored.route,
            state=TaskState.Name(task.status.state),
            document=MessageToDict(task),
        )

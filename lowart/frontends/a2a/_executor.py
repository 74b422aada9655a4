"""What an A2A message to a route does: one call through the Gateway.

A chat route gets one streamed chat call (its earlier turns in the same
context first); the model's tokens become appends to one text artifact,
coalesced to a few updates a second so a long answer is not a database write
per token. An image route runs its workflow: progress as `working` status
updates, the images as one artifact of file parts. Everything else (keys,
limits, transforms, fallbacks, the usage record with interface `a2a`) is the
Gateway's. Cancelling the task cancels this coroutine: leaving the stream's
`async with` stops the upstream call and records the tokens so far.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from a2a.helpers import new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types.a2a_pb2 import Message, Part, Role, Task, TaskState, TaskStatus
from google.protobuf.json_format import MessageToDict

from lowart.agents import AgentTasks
from lowart.errors import GatewayError, InvalidRequest
from lowart.frontends.a2a._caller import BASE_URL, REQUEST_ID, ROUTE, principal_of
from lowart.gateway import Gateway
from lowart.images import GenerationResult, progress_text
from lowart.types import CallContext, ImageProgress, Principal

__all__ = ["ANSWER_ARTIFACT", "IMAGES_ARTIFACT", "RouteExecutor"]

log = logging.getLogger("lowart.a2a")

ANSWER_ARTIFACT = "answer"
IMAGES_ARTIFACT = "images"
_FLUSH_SECONDS = 0.05  # streamed text is sent on at most this often (a save each time)
_PROGRESS_SECONDS = 0.25  # image progress likewise
_CHAT_OPTIONS = ("temperature", "max_tokens", "top_p", "stop", "seed")
_IMAGE_OPTIONS = ("negative_prompt", "size", "n", "seed", "steps", "cfg")


def _text_of(message: Message) -> str:
    """A message's text parts; a chat or image prompt reads nothing else."""
    texts = [part.text for part in message.parts if part.HasField("text")]
    if len(texts) != len(message.parts):
        raise InvalidRequest(
            "This agent reads text parts only; send the prompt as text.", code="invalid_parts"
        )
    text = "\n".join(texts)
    if not text.strip():
        raise InvalidRequest("The message has no text.", code="empty_message")
    return text


def _options(message: Message, names: tuple[str, ...]) -> dict[str, Any]:
    """Call options the client put in the message's metadata (the engine validates them)."""
    if not message.HasField("metadata"):
        return {}
    metadata = MessageToDict(message.metadata)
    return {name: _number(metadata[name]) for name in names if name in metadata}


def _number(value: Any) -> Any:
    """Metadata is a protobuf Struct, whose numbers are all doubles: 3.0 is meant as 3."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _turns(task: dict[str, Any]) -> list[dict[str, str]]:
    """An earlier task as chat turns: its user messages, then the answer it gave."""
    turns = []
    for message in task.get("history") or ():
        if message.get("role") == "ROLE_USER":
            text = "\n".join(p["text"] for p in message.get("parts") or () if "text" in p)
            if text:
                turns.append({"role": "user", "content": text})
    answer = "".join(
        p.get("text", "")
        for artifact in task.get("artifacts") or ()
        if artifact.get("name") == ANSWER_ARTIFACT
        for p in artifact.get("parts") or ()
    )
    if turns and answer:
        turns.append({"role": "assistant", "content": answer})
    return turns


class RouteExecutor(AgentExecutor):
    def __init__(self, gateway: Gateway, tasks: AgentTasks) -> None:
        self._gateway = gateway
        self._tasks = tasks
        self.running: dict[str, Principal] = {}
        """Tasks this process is working on, and whose they are (see A2aAgents.close)."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, context_id = str(context.task_id), str(context.context_id)
        updater = TaskUpdater(event_queue, task_id, context_id)
        message = context.message
        if context.current_task is None and message is not None:
            await event_queue.enqueue_event(
                Task(
                    id=task_id,
                    context_id=context_id,
                    status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
                    history=[message],
                )
            )
        call = context.call_context
        principal = principal_of(call)
        ctx = CallContext(
            request_id=str(call.state.get(REQUEST_ID) or uuid.uuid4().hex),
            interface="a2a",
            base_url=call.state.get(BASE_URL),
        )
        self.running[task_id] = principal
        try:
            if message is None:
                raise InvalidRequest("SendMessage needs a message.")
            route = self._gateway.route_for(principal, call.state.get(ROUTE))
            await updater.start_work()
            if self._gateway.generates_images(route):
                await self._images(principal, route.name, message, ctx, updater)
            else:
                await self._chat(principal, route.name, message, context, ctx, updater)
        except GatewayError as exc:
            await updater.failed(_error_message(exc, task_id, context_id))
        except Exception:
            log.exception("A2A task %s failed unexpectedly", task_id)
            failure = GatewayError("The agent failed; the gateway logged the details.")
            await updater.failed(_error_message(failure, task_id, context_id))
        finally:
            self.running.pop(task_id, None)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """The SDK has cancelled `execute` already (which stopped the upstream call)."""
        await TaskUpdater(event_queue, str(context.task_id), str(context.context_id)).cancel()

    async def _history(
        self, principal: Principal, context: RequestContext, message: Message
    ) -> list[dict[str, str]]:
        """Earlier turns of this key's conversation, when the client named one."""
        if not message.context_id:
            return []
        turns: list[dict[str, str]] = []
        for stored in await self._tasks.conversation(principal, message.context_id):
            if stored.id != context.task_id:
                turns.extend(_turns(stored.document))
        return turns

    async def _chat(
        self,
        principal: Principal,
        route: str,
        message: Message,
        context: RequestContext,
        ctx: CallContext,
        updater: TaskUpdater,
    ) -> None:
        prompt = _text_of(message)
        messages = [*await self._history(principal, context, message)]
        messages.append({"role": "user", "content": prompt})
        body = {
            "model": route,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            **_options(message, _CHAT_OPTIONS),
        }
        artifact_id = uuid.uuid4().hex
        pending: list[str] = []
        sent_any = False
        usage: dict[str, Any] = {}
        finish: str | None = None
        last_flush = time.monotonic()

        async def flush(last: bool) -> None:
            nonlocal sent_any, last_flush
            if not pending and not last:
                return
            await updater.add_artifact(
                [Part(text="".join(pending))],
                artifact_id=artifact_id,
                name=ANSWER_ARTIFACT,
                append=sent_any,
                last_chunk=last,
            )
            pending.clear()
            sent_any, last_flush = True, time.monotonic()

        async with await self._gateway.open_stream(principal, body, ctx) as stream:
            async for chunk in stream:
                usage = dict(chunk.get("usage") or usage)
                for choice in chunk.get("choices") or ():
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        pending.append(content)
                    finish = choice.get("finish_reason") or finish
                if pending and time.monotonic() - last_flush >= _FLUSH_SECONDS:
                    await flush(False)
            await flush(True)
            served = stream.route.name
        await updater.complete(
            _agent_note(
                updater,
                f"Answered by '{served}'.",
                {"model": served, "finish_reason": finish, "usage": _usage(usage)},
            )
        )

    async def _images(
        self,
        principal: Principal,
        route: str,
        message: Message,
        ctx: CallContext,
        updater: TaskUpdater,
    ) -> None:
        body = {"model": route, "prompt": _text_of(message), **_options(message, _IMAGE_OPTIONS)}
        last_progress = 0.0
        async with await self._gateway.open_generation(principal, body, ctx) as generation:
            async for event in generation:
                if isinstance(event, ImageProgress):
                    now = time.monotonic()
                    if now - last_progress >= _PROGRESS_SECONDS:
                        last_progress = now
                        text = progress_text(event).strip()
                        await updater.start_work(_agent_note(updater, text or "working", {}))
                    continue
                await self._deliver(event, updater)
                return
        raise GatewayError("The generation ended without a result.")

    async def _deliver(self, result: GenerationResult, updater: TaskUpdater) -> None:
        parts = []
        for output in result.outputs:
            part = Part(raw=await output.read(), media_type=output.content_type)
            part.filename = f"{output.file_id}"
            part.metadata.update({"url": output.url, "file_id": output.file_id})
            parts.append(part)
        await updater.add_artifact(parts, name=IMAGES_ARTIFACT, last_chunk=True)
        await updater.complete(
            _agent_note(
                updater,
                f"Generated {len(parts)} image(s) with '{result.model}'.",
                {"model": result.model, "job_id": result.job_id},
            )
        )


def _usage(usage: dict[str, Any]) -> dict[str, int]:
    return {
        name: int(usage.get(name) or 0)
        for name in ("prompt_tokens", "completion_tokens", "total_tokens")
    }


def _agent_note(updater: TaskUpdater, text: str, metadata: dict[str, Any]) -> Message:
    message = new_text_message(text, context_id=updater.context_id, task_id=updater.task_id)
    message.role = Role.ROLE_AGENT
    if metadata:
        message.metadata.update(metadata)
    return message


def _error_message(exc: GatewayError, task_id: str, context_id: str) -> Message:
    """A failed task's status message: the readable error, its code and HTTP status."""
    message = new_text_message(exc.message, context_id=context_id, task_id=task_id)
    message.metadata.update({"error": {"code": exc.code or "error", "status": exc.status}})
    return message

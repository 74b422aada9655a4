"""One MCP call of the model, under its policy: run, refused, approved or denied.

Every call ends as a `tool` message in the conversation (the result, or why it
did not run) and a `ToolStarted`/`ToolEnded` pair for the frontend. A blocked
tool never runs, whatever was approved: the hub re-checks the policy at the
call, and an approval is resolved again first (the policy may have changed
while the session waited). Refusals are audited through the hub.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson

from lowart.toolhub import (
    HubTool,
    ToolBlocked,
    ToolHub,
    ToolNotFound,
    ToolOutcome,
    ToolUnavailable,
)
from lowart.toolruns._events import LoopEvent, PendingCall, ToolEnded, ToolRun, ToolStarted
from lowart.toolruns._request import LoopRequest
from lowart.toolruns._spec import ToolPlan
from lowart.types import CallContext, Principal

__all__ = ["ToolCalls", "call_arguments", "call_id", "call_name"]

_MAX_ARGUMENT_BYTES = 256 << 10


class ToolCalls:
    def __init__(self, hub: ToolHub) -> None:
        self._hub = hub

    async def auto(
        self,
        principal: Principal,
        request: LoopRequest,
        plan: ToolPlan,
        call: dict[str, Any],
        ctx: CallContext,
        deadline: float,
    ) -> AsyncIterator[LoopEvent]:
        name = call_name(call)
        offered = plan.offered.get(name)
        if offered is not None:
            tool = offered.tool
            async for event in self._execute(
                principal, request, tool, call, ctx, deadline, decision="auto"
            ):
                yield event
            return
        run = ToolRun(call_id(call), *_split(name), call_arguments(call))
        message = _NOT_OFFERED.format(name=name[:64])
        try:  # a name the model made up, or a tool hidden from this request
            self._hub.resolve(principal, name)
        except ToolBlocked:
            await self._hub.record_refusal(
                principal, run.server, run.tool, decision="blocked", request_id=ctx.request_id
            )
            async for event in self._refused(request, run, "blocked", _BLOCKED):
                yield event
            return
        except ToolNotFound:
            message = _UNKNOWN.format(name=name[:64])
        async for event in self._refused(request, run, "failed", message):
            yield event

    async def approved(
        self,
        principal: Principal,
        request: LoopRequest,
        call: PendingCall,
        ctx: CallContext,
        deadline: float,
    ) -> AsyncIterator[LoopEvent]:
        model_call = _as_model_call(call)
        run = ToolRun(call.id, call.server, call.tool, call.arguments, approval_request_id=call.id)
        try:  # the policy may have changed while the session waited: block still wins
            tool = self._hub.resolve(principal, call.exposed)
        except ToolBlocked:
            await self._hub.record_refusal(
                principal, call.server, call.tool, decision="blocked", request_id=ctx.request_id
            )
            async for event in self._refused(request, run, "blocked", _BLOCKED):
                yield event
            return
        except ToolNotFound:
            message = _UNKNOWN.format(name=call.exposed)
            async for event in self._refused(request, run, "failed", message):
                yield event
            return
        async for event in self._execute(
            principal, request, tool, model_call, ctx, deadline, decision="approved", run=run
        ):
            yield event

    async def denied(
        self, principal: Principal, request: LoopRequest, call: PendingCall, ctx: CallContext
    ) -> AsyncIterator[LoopEvent]:
        await self._hub.record_refusal(
            principal, call.server, call.tool, decision="denied", request_id=ctx.request_id
        )
        run = ToolRun(call.id, call.server, call.tool, call.arguments, approval_request_id=call.id)
        async for event in self._refused(request, run, "denied", _DENIED):
            yield event

    async def _refused(
        self, request: LoopRequest, run: ToolRun, status: Any, message: str
    ) -> AsyncIterator[LoopEvent]:
        yield ToolStarted(run)
        run.status = status
        run.error = message
        request.messages.append(_tool_message(run.id, message))
        yield ToolEnded(run)

    async def _execute(
        self,
        principal: Principal,
        request: LoopRequest,
        tool: HubTool,
        call: dict[str, Any],
        ctx: CallContext,
        deadline: float,
        *,
        decision: str,
        run: ToolRun | None = None,
    ) -> AsyncIterator[LoopEvent]:
        run = run or ToolRun(call_id(call), tool.server, tool.name, call_arguments(call))
        yield ToolStarted(run)
        arguments = _parsed_arguments(run.arguments)
        if arguments is None:
            run.status, run.error = "failed", _BAD_ARGUMENTS
            request.messages.append(_tool_message(run.id, _BAD_ARGUMENTS))
            yield ToolEnded(run)
            return
        try:
            async with asyncio.timeout_at(deadline):
                outcome = await self._hub.call(
                    principal, tool, arguments, decision=decision, request_id=ctx.request_id
                )
        except ToolBlocked:  # the hub refused (and recorded it)
            run.status, run.error = "blocked", _BLOCKED
        except (ToolNotFound, ToolUnavailable) as exc:
            run.status, run.error = "failed", exc.message
        except TimeoutError:
            run.status, run.error = "failed", _OUT_OF_TIME
        else:
            _take_outcome(run, outcome)
        text = run.output if run.status == "completed" else f"Error: {run.error}"
        request.messages.append(_tool_message(run.id, text or ""))
        yield ToolEnded(run)


_BLOCKED = "This tool is blocked by policy; the call did not run."
_DENIED = "The user denied this tool call; it did not run."
_UNKNOWN = "There is no tool named '{name}' available; the call did not run."
_NOT_OFFERED = "The tool '{name}' was not offered in this request; the call did not run."
_BAD_ARGUMENTS = "The arguments were not a JSON object (at most 256 KiB); the call did not run."
_OUT_OF_TIME = "The tool loop ran out of time (LOWART_TOOL_MAX_SECONDS) during this call."


def _take_outcome(run: ToolRun, outcome: ToolOutcome) -> None:
    run.duration_ms = outcome.duration_ms
    if outcome.is_error:
        run.status = "failed"
        run.error = outcome.error or outcome.text or "The tool failed."
        run.output = outcome.text or None
    else:
        run.status = "completed"
        run.output = outcome.text


def call_name(call: dict[str, Any]) -> str:
    function = call.get("function")
    return str(function.get("name") or "") if isinstance(function, dict) else ""


def call_arguments(call: dict[str, Any]) -> str:
    function = call.get("function")
    return str(function.get("arguments") or "") if isinstance(function, dict) else ""


def call_id(call: dict[str, Any]) -> str:
    return str(call.get("id") or f"call_{secrets.token_hex(12)}")[:64]


def _split(exposed: str) -> tuple[str, str]:
    server, _, tool = exposed.partition("__")
    return server[:64], tool[:128]


def _as_model_call(call: PendingCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.exposed, "arguments": call.arguments},
    }


def _parsed_arguments(text: str) -> dict[str, Any] | None:
    if len(text) > _MAX_ARGUMENT_BYTES:
        return None
    if not text.strip():
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _tool_message(call: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call, "content": content}

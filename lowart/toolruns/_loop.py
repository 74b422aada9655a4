"""The tool loop: a model with upstream MCP tools, run until it answers.

Each step is one Gateway call (limits, usage, routing as for any request). The
model's calls of MCP tools are handled under their policy for the caller's key:
`auto` runs through the hub and the result goes back as a `tool` message;
`block` never runs (the model is told, the refusal audited); `confirm` pauses
the loop: the conversation, the request and the pending calls are stored as a
session of the key, which its client continues once, before it expires, by
approving or denying each call. A call of one of the client's own function
tools ends the loop and goes back to the client, as without MCP tools. Bounds:
`max_steps` model calls and `max_seconds` of wall time per exchange; when one
is hit the loop ends with what the model has, marked `stopped`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from lowart.errors import InvalidRequest
from lowart.gateway import Gateway
from lowart.store import ToolSessionStore
from lowart.toolhub import ToolHub
from lowart.toolruns._calls import ToolCalls, call_arguments, call_id, call_name
from lowart.toolruns._errors import (
    ToolSessionContinued,
    ToolSessionExpired,
    ToolSessionNotFound,
)
from lowart.toolruns._events import (
    Finished,
    LoopEvent,
    Paused,
    PendingCall,
    TextDelta,
    ToolsListed,
)
from lowart.toolruns._request import LoopBounds, LoopRequest, Resumed
from lowart.toolruns._spec import McpToolSpec, ToolPlan, plan_tools
from lowart.toolruns._step import Step, run_step
from lowart.types import CallContext, Principal

__all__ = ["ToolLoop"]

_SESSION_PREFIX = "tsess"
MAX_SESSION_BYTES = 64 << 20
"""Largest paused session (conversation, request, pending calls) kept for an approval."""


@dataclass(slots=True)
class _Exchange:
    """What one exchange has done so far (summed over its steps)."""

    deadline: float
    steps: int = 0
    model: str = ""
    text: str = ""
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    )

    def add(self, step: Step) -> None:
        self.model = step.model or self.model
        self.text += step.text
        for name in self.usage:
            self.usage[name] += step.usage.get(name, 0)


class ToolLoop:
    def __init__(
        self, gateway: Gateway, hub: ToolHub, store: ToolSessionStore, bounds: LoopBounds
    ) -> None:
        self._gateway = gateway
        self._hub = hub
        self._calls = ToolCalls(hub)
        self._store = store
        self.bounds = bounds

    def plan(self, principal: Principal, specs: list[McpToolSpec]) -> ToolPlan:
        """The tools a request gets; raises (400/403/404) before any model call."""
        return plan_tools(self._hub, principal, specs)

    async def run(
        self, principal: Principal, request: LoopRequest, plan: ToolPlan, ctx: CallContext
    ) -> AsyncIterator[LoopEvent]:
        """Run a new exchange; ends with one `Paused` or `Finished`."""
        _check_request(request)
        for server, tools in plan.listed.items():
            yield ToolsListed(server, tools)
        async for event in self._drive(principal, request, plan, ctx, self._exchange()):
            yield event

    async def claim(
        self,
        principal: Principal,
        session_id: str,
        approve: list[str],
        deny: list[str],
        request_id: str | None = None,
    ) -> Resumed:
        """Take this key's paused session to continue it (once): 404 when it is not the
        key's, 410 when it expired (its calls are audited as expired), 409 when it
        was continued already, 400 when an id names no pending call."""
        claim = await self._store.claim(session_id[:64], principal.key_id)
        if claim.status == "missing":
            raise ToolSessionNotFound(f"No paused tool session '{session_id[:64]}'.")
        if claim.status == "claimed":
            raise ToolSessionContinued(
                f"The tool session '{session_id[:64]}' was continued already."
            )
        assert claim.document is not None
        pending = [PendingCall.from_json(p) for p in claim.document.get("pending") or ()]
        if claim.status == "expired":
            if await self._store.expire(session_id[:64], principal.key_id):
                for call in pending:
                    await self._hub.record_refusal(
                        principal, call.server, call.tool, decision="expired", request_id=request_id
                    )
            raise ToolSessionExpired(
                f"The tool session '{session_id[:64]}' expired; its calls did not run. "
                "Send the request again."
            )
        known = {call.id for call in pending}
        unknown = [i for i in [*approve, *deny] if i not in known]
        if unknown:  # the session is claimed now: a typo must not pass as a denial
            await self._store.release(session_id[:64], principal.key_id)
            raise InvalidRequest(
                f"'{unknown[0][:64]}' is not a pending call of this session.", param="approve"
            )
        request = LoopRequest.from_document(claim.kind, claim.document)
        return Resumed(session_id[:64], request, pending)

    async def resume(
        self,
        principal: Principal,
        resumed: Resumed,
        approved: set[str],
        ctx: CallContext,
        *,
        stream: bool,
    ) -> AsyncIterator[LoopEvent]:
        """Answer the pending calls (approved ones run; the rest are denied), then go on."""
        request = resumed.request
        request.stream = stream
        request.session_id = None
        plan = plan_tools(self._hub, principal, request.specs, strict=False)
        exchange = self._exchange()
        for call in resumed.pending:
            if call.id in approved:
                events = self._calls.approved(principal, request, call, ctx, exchange.deadline)
            else:
                events = self._calls.denied(principal, request, call, ctx)
            async for event in events:
                yield event
        async for event in self._drive(principal, request, plan, ctx, exchange):
            yield event

    def _exchange(self) -> _Exchange:
        return _Exchange(asyncio.get_running_loop().time() + self.bounds.max_seconds)

    # ---- the loop ------------------------------------------------------------------------

    async def _drive(
        self,
        principal: Principal,
        request: LoopRequest,
        plan: ToolPlan,
        ctx: CallContext,
        exchange: _Exchange,
    ) -> AsyncIterator[LoopEvent]:
        loop = asyncio.get_running_loop()
        client_names = _client_names(request.client_tools)
        while True:
            if exchange.steps >= self.bounds.max_steps:
                yield self._finished(exchange, "length", "max_steps")
                return
            if loop.time() >= exchange.deadline:
                yield self._finished(exchange, "length", "max_seconds")
                return
            exchange.steps += 1
            step = Step(exchange.steps)
            async for text in self._step(principal, request, plan, ctx, exchange, step):
                yield TextDelta(text, step.number)
            exchange.add(step)
            if step.timed_out:
                yield self._finished(exchange, "length", "max_seconds")
                return
            if not step.calls:
                yield self._finished(exchange, step.finish_reason)
                return
            client = [c for c in step.calls if call_name(c) in client_names]
            if client:  # the client's own tools: it runs them (MCP calls beside them wait)
                yield self._finished(exchange, "tool_calls", client_calls=client)
                return
            request.messages.append(step.message(step.calls))
            pending: list[PendingCall] = []
            for call in step.calls:
                offered = plan.offered.get(call_name(call))
                if offered is not None and offered.policy == "confirm":
                    tool = offered.tool
                    pending.append(
                        PendingCall(
                            call_id(call),
                            tool.server,
                            tool.name,
                            tool.exposed,
                            call_arguments(call),
                        )
                    )
                    continue
                async for event in self._calls.auto(
                    principal, request, plan, call, ctx, exchange.deadline
                ):
                    yield event
            if pending:
                yield await self._pause(principal, request, pending, exchange)
                return

    async def _step(
        self,
        principal: Principal,
        request: LoopRequest,
        plan: ToolPlan,
        ctx: CallContext,
        exchange: _Exchange,
        step: Step,
    ) -> AsyncIterator[str]:
        """One model call's text; a streamed step checks the deadline per chunk, a
        plain one is cut at it (its usage is recorded either way)."""
        steps = run_step(
            self._gateway,
            principal,
            request.body(plan),
            ctx,
            step,
            stream=request.stream,
            deadline=exchange.deadline,
        )
        if request.stream:
            async for text in steps:
                yield text
            return
        texts: list[str] = []
        try:
            async with asyncio.timeout_at(exchange.deadline):
                texts = [text async for text in steps]
        except TimeoutError:
            step.timed_out = True
        for text in texts:
            yield text

    def _finished(
        self,
        exchange: _Exchange,
        finish_reason: str,
        stopped: Any = None,
        client_calls: list[dict[str, Any]] | None = None,
    ) -> Finished:
        return Finished(
            finish_reason=finish_reason,
            model=exchange.model,
            usage=dict(exchange.usage),
            text=exchange.text,
            stopped=stopped,
            client_calls=client_calls or [],
        )

    async def _pause(
        self,
        principal: Principal,
        request: LoopRequest,
        pending: list[PendingCall],
        exchange: _Exchange,
    ) -> Paused:
        session_id = request.session_id or f"{_SESSION_PREFIX}_{secrets.token_hex(24)}"
        expires = datetime.now(UTC) + timedelta(seconds=self.bounds.approval_ttl)
        # Off the event loop: a long conversation takes a while to encode.
        document = await asyncio.to_thread(orjson.dumps, request.document(pending))
        if len(document) > MAX_SESSION_BYTES:
            raise InvalidRequest(
                f"The conversation is larger than {MAX_SESSION_BYTES >> 20} MiB and cannot "
                "wait for an approval; start a shorter one.",
                code="tool_session_too_large",
            )
        await self._store.save(session_id, principal.key_id, request.kind, document, expires)
        return Paused(
            session_id=session_id,
            expires_at=int(expires.timestamp()),
            calls=pending,
            model=exchange.model,
            usage=dict(exchange.usage),
            text=exchange.text,
        )

    # ---- one call ------------------------------------------------------------------------


def _check_request(request: LoopRequest) -> None:
    n = request.params.get("n")
    if n is not None and n != 1:
        raise InvalidRequest("'n' must be 1 when MCP tools are given.", param="n")


def _client_names(tools: list[Any]) -> set[str]:
    names = set()
    for tool in tools:
        if isinstance(tool, dict):
            function = tool.get("function")
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.add(function["name"])
    return names

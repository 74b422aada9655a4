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
from lowart.toolhub import (
    HubTool,
    ToolBlocked,
    ToolHub,
    ToolNotFound,
    ToolOutcome,
    ToolUnavailable,
)
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
    ToolEnded,
    ToolRun,
    ToolsListed,
    ToolStarted,
)
from lowart.toolruns._spec import McpToolSpec, ToolPlan, plan_tools
from lowart.toolruns._step import Step, run_step
from lowart.types import CallContext, Principal

__all__ = ["LoopBounds", "LoopRequest", "Resumed", "ToolLoop"]

_SESSION_PREFIX = "tsess"
_MAX_ARGUMENT_BYTES = 256 << 10


@dataclass(frozen=True, slots=True)
class LoopBounds:
    max_steps: int = 8
    max_seconds: float = 120.0
    approval_ttl: float = 3600.0


@dataclass(slots=True)
class LoopRequest:
    """One exchange of a tool loop: the request, the conversation, where it stands."""

    kind: str
    """Who continues a paused session: "chat" or "responses" (its frontend's encoding)."""
    params: dict[str, Any]
    """The chat request's fields besides `messages` and `tools` (model, limits, ...)."""
    messages: list[dict[str, Any]]
    specs: list[McpToolSpec]
    client_tools: list[Any] = field(default_factory=list)
    """The client's own tools, offered beside the MCP ones; calling one ends the loop."""
    stream: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """The frontend's own state, kept with a paused session and handed back on resume."""
    session_id: str | None = None
    """A paused session's id (the frontend may choose it, e.g. a Response's id)."""

    def body(self, plan: ToolPlan) -> dict[str, Any]:
        body = {**self.params, "messages": self.messages}
        tools = [*self.client_tools, *plan.functions()]
        if tools:
            body["tools"] = tools
        else:
            body.pop("tool_choice", None)
            body.pop("parallel_tool_calls", None)
        return body

    def document(self, pending: list[PendingCall]) -> dict[str, Any]:
        return {
            "params": self.params,
            "messages": self.messages,
            "specs": [s.as_json() for s in self.specs],
            "client_tools": self.client_tools,
            "extra": self.extra,
            "pending": [p.as_json() for p in pending],
        }

    @classmethod
    def from_document(cls, kind: str, document: dict[str, Any]) -> LoopRequest:
        return cls(
            kind=kind,
            params=dict(document.get("params") or {}),
            messages=list(document.get("messages") or []),
            specs=[McpToolSpec.from_json(s) for s in document.get("specs") or ()],
            client_tools=list(document.get("client_tools") or []),
            extra=dict(document.get("extra") or {}),
        )


@dataclass(slots=True)
class Resumed:
    """A claimed session: its request (to go on with) and the calls that waited."""

    session_id: str
    request: LoopRequest
    pending: list[PendingCall]


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
                events = self._approved(principal, request, call, ctx, exchange)
            else:
                events = self._denied(principal, request, call, ctx)
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
            client = [c for c in step.calls if _name(c) in client_names]
            if client:  # the client's own tools: it runs them (MCP calls beside them wait)
                yield self._finished(exchange, "tool_calls", client_calls=client)
                return
            request.messages.append(step.message(step.calls))
            pending: list[PendingCall] = []
            for call in step.calls:
                offered = plan.offered.get(_name(call))
                if offered is not None and offered.policy == "confirm":
                    tool = offered.tool
                    pending.append(
                        PendingCall(
                            _call_id(call), tool.server, tool.name, tool.exposed, _arguments(call)
                        )
                    )
                    continue
                async for event in self._auto(principal, request, plan, call, ctx, exchange):
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
        await self._store.save(
            session_id, principal.key_id, request.kind, request.document(pending), expires
        )
        return Paused(
            session_id=session_id,
            expires_at=int(expires.timestamp()),
            calls=pending,
            model=exchange.model,
            usage=dict(exchange.usage),
            text=exchange.text,
        )

    # ---- one call ------------------------------------------------------------------------

    async def _auto(
        self,
        principal: Principal,
        request: LoopRequest,
        plan: ToolPlan,
        call: dict[str, Any],
        ctx: CallContext,
        exchange: _Exchange,
    ) -> AsyncIterator[LoopEvent]:
        name = _name(call)
        offered = plan.offered.get(name)
        if offered is not None:
            tool = offered.tool
            async for event in self._execute(
                principal, request, tool, call, ctx, exchange, decision="auto"
            ):
                yield event
            return
        run = ToolRun(_call_id(call), *_split(name), _arguments(call))
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

    async def _approved(
        self,
        principal: Principal,
        request: LoopRequest,
        call: PendingCall,
        ctx: CallContext,
        exchange: _Exchange,
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
            principal, request, tool, model_call, ctx, exchange, decision="approved", run=run
        ):
            yield event

    async def _denied(
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
        exchange: _Exchange,
        *,
        decision: str,
        run: ToolRun | None = None,
    ) -> AsyncIterator[LoopEvent]:
        run = run or ToolRun(_call_id(call), tool.server, tool.name, _arguments(call))
        yield ToolStarted(run)
        arguments = _parsed_arguments(run.arguments)
        if arguments is None:
            run.status, run.error = "failed", _BAD_ARGUMENTS
            request.messages.append(_tool_message(run.id, _BAD_ARGUMENTS))
            yield ToolEnded(run)
            return
        try:
            async with asyncio.timeout_at(exchange.deadline):
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


def _name(call: dict[str, Any]) -> str:
    function = call.get("function")
    return str(function.get("name") or "") if isinstance(function, dict) else ""


def _arguments(call: dict[str, Any]) -> str:
    function = call.get("function")
    return str(function.get("arguments") or "") if isinstance(function, dict) else ""


def _call_id(call: dict[str, Any]) -> str:
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


def _tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}

"""Running a plan: retries with backoff, fallbacks, breakers and timeouts.

Each candidate deployment gets up to `retries + 1` attempts while its failures
are retryable (connection errors, timeouts, 429, 5xx); a Retry-After is
honoured when it is short, otherwise the next candidate is tried at once. A
client error (e.g. an upstream 400) ends the plan: another deployment would
say the same. For streams an attempt lasts until the first chunk, which is
pulled before the client has seen a byte, so retrying is always invisible.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lowart.adapters import Adapter
from lowart.errors import (
    GatewayError,
    ProviderKeyMissing,
    TransformFailed,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lowart.routing._breaker import CLOSED, Breakers, Ticket
from lowart.routing._manager import ModelManager
from lowart.routing._plan import build_plan
from lowart.routing._plan_cache import PlanCache
from lowart.routing._policy import Policy
from lowart.telemetry import NO_SPAN, Metrics, Span
from lowart.types import CallContext, ChatChunk, ChatRequest, ChatResponse, Route, VendorHooks

__all__ = ["OpenedStream", "Router", "Trail", "backoff_delay", "classify", "close_quietly"]

T = TypeVar("T")

# Retrying, counted against the deployment's health.
_RETRY, _FALL_BACK, _FATAL, _IGNORE = "retry", "fall_back", "fatal", "ignore"


def classify(exc: GatewayError) -> str:
    """What a failure means for the plan.

    retry: transient (same deployment again); fall_back: this deployment is
    broken for now (its credentials), try the next; fatal: the request itself
    is at fault, stop; ignore: not the deployment's fault, stop.
    """
    if isinstance(exc, UpstreamTimeout | UpstreamUnavailable):
        return _RETRY
    if isinstance(exc, TransformFailed):
        return _IGNORE
    if isinstance(exc, ProviderKeyMissing):  # like a 401: another deployment may have a key
        return _FALL_BACK
    if isinstance(exc, UpstreamError):
        status = exc.upstream_status
        if status is None or status == 429 or status >= 500:
            return _RETRY
        if status in (401, 403):
            return _FALL_BACK
        return _FATAL
    return _IGNORE


def backoff_delay(
    policy: Policy, attempt: int, retry_after: float | None, rnd: Callable[[], float]
) -> float | None:
    """Seconds before attempt `attempt + 1`, or None to move on to the next candidate."""
    base = min(policy.retry_backoff_max, policy.retry_backoff * (2**attempt))
    delay: float = base * (0.5 + rnd() / 2)  # jitter keeps retrying clients from marching in step
    if retry_after is not None:
        if retry_after > policy.max_retry_wait:
            return None
        delay = max(delay, retry_after)
    return delay


@dataclass
class Trail:
    """What one request went through on its way to an answer (for the usage record)."""

    requested: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    served_by: Route | None = None
    last: Route | None = None

    def note(self, route: Route, outcome: str) -> None:
        self.last = route
        self.attempts.append({"route": route.name, "deployment": route.id, "outcome": outcome})

    def extra(self) -> dict[str, Any] | None:
        """Only requests that needed more than one try carry the trail."""
        if len(self.attempts) <= 1 and (
            self.served_by is None or self.served_by.name == self.requested
        ):
            return None
        tried = dict.fromkeys(a["route"] for a in self.attempts)  # in order of first try
        fallbacks = [name for name in tried if name != self.requested]
        return {
            "requested_model": self.requested,
            "attempts": len(self.attempts),
            "fallbacks": fallbacks,
            "trail": self.attempts,
        }


@dataclass
class OpenedStream:
    route: Route
    upstream: AsyncIterator[ChatChunk]
    first: ChatChunk | None
    ticket: Ticket
    deadline: float | None
    """Loop time the whole stream must end by (the route's total_timeout)."""


HooksFactory = Callable[[Route, CallContext], VendorHooks | None]


class Router:
    """Plans a request over deployments and fallbacks, and runs the plan."""

    def __init__(
        self,
        models: ModelManager,
        adapter_for: Callable[[Route], Adapter],
        breakers: Breakers,
        hooks_for: HooksFactory | None = None,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rnd: Callable[[], float] = random.random,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics.disabled()
        self._models = models
        self._adapter_for = adapter_for
        self._breakers = breakers
        self._hooks_for = hooks_for
        self._sleep = sleep
        self._rnd = rnd
        self._plans = PlanCache(breakers)

    def _policy_for(self, route: Route) -> Policy:
        return self._models.policy(route)

    def plan(self, name: str) -> list[Route]:
        """Candidates for a request to `name`, skipping deployments whose circuit is open."""
        deployments, fallbacks = self._models.deployments(), self._models.fallbacks()
        cached = self._plans.get(name, deployments, fallbacks)
        if cached is not None:
            return list(cached)
        steady = True  # no random draw and no circuit other than closed: the same next time

        def available(route: Route) -> bool:
            nonlocal steady
            breaker = self._breakers.for_route(route, self._policy_for(route))
            steady = steady and breaker.state == CLOSED
            return breaker.available()

        def rnd() -> float:
            nonlocal steady
            steady = False
            return self._rnd()

        plan = build_plan(name, deployments, fallbacks, available, rnd)
        if steady:
            self._plans.put(name, plan)
        return list(plan)

    async def complete(
        self, plan: list[Route], request: ChatRequest, ctx: CallContext, trail: Trail
    ) -> tuple[Route, ChatResponse]:
        async def attempt(
            route: Route, policy: Policy, ticket: Ticket, hooks: VendorHooks | None
        ) -> ChatResponse:
            adapter = self._adapter_for(route)
            limit = _min(policy.first_byte_timeout, policy.total_timeout)
            if limit is None:  # the common case skips the timer entirely
                return await adapter.complete(route, request, ctx, hooks)
            try:
                async with asyncio.timeout(limit):
                    return await adapter.complete(route, request, ctx, hooks)
            except TimeoutError as exc:
                raise _timed_out(route, policy.first_byte_timeout, policy.total_timeout) from exc

        route, ticket, response = await self.run(plan, ctx, trail, attempt)
        ticket.success()
        return route, response

    async def embed(
        self, plan: list[Route], request: dict[str, Any], ctx: CallContext, trail: Trail
    ) -> tuple[Route, dict[str, Any]]:
        """An embeddings call through the same plan: retries, fallbacks, breakers, timeouts."""

        async def attempt(
            route: Route, policy: Policy, ticket: Ticket, hooks: VendorHooks | None
        ) -> dict[str, Any]:
            adapter = self._adapter_for(route)
            limit = _min(policy.first_byte_timeout, policy.total_timeout)
            if limit is None:
                return await adapter.embed(route, request, ctx, hooks)
            async with asyncio.timeout(limit):
                return await adapter.embed(route, request, ctx, hooks)

        route, ticket, response = await self.run(plan, ctx, trail, attempt)
        ticket.success()
        return route, response

    async def open_stream(
        self, plan: list[Route], request: ChatRequest, ctx: CallContext, trail: Trail
    ) -> OpenedStream:
        loop = asyncio.get_running_loop()

        async def attempt(
            route: Route, policy: Policy, ticket: Ticket, hooks: VendorHooks | None
        ) -> OpenedStream:
            adapter = self._adapter_for(route)
            started = loop.time()
            deadline = started + policy.total_timeout if policy.total_timeout else None
            first_by = started + policy.first_byte_timeout if policy.first_byte_timeout else None
            upstream = adapter.stream(route, request, ctx, hooks)
            first_deadline = _min(first_by, deadline)
            try:
                if first_deadline is None:
                    first = await anext(upstream, None)
                else:
                    async with asyncio.timeout_at(first_deadline):
                        first = await anext(upstream, None)
            except TimeoutError as exc:
                await close_quietly(upstream)
                raise _timed_out(route, first_by, deadline) from exc
            except BaseException:
                await close_quietly(upstream)
                raise
            return OpenedStream(route, upstream, first, ticket, deadline)

        _, _, opened = await self.run(plan, ctx, trail, attempt)
        return opened

    async def run(
        self,
        plan: list[Route],
        ctx: CallContext,
        trail: Trail,
        attempt: Callable[[Route, Policy, Ticket, VendorHooks | None], Awaitable[T]],
        *,
        operation: str = "chat",
    ) -> tuple[Route, Ticket, T]:
        """Run one call over a plan, whatever its kind (chat, stream, image submission):
        `attempt` gets each deployment in turn, with its policy, its breaker's ticket and
        its route's transforms, under the retries and fallbacks; the caller settles the
        ticket of the attempt that succeeded. Each attempt is counted and gets its own
        span (`operation` names it, after the GenAI conventions)."""
        last: GatewayError | None = None
        metrics = self._metrics
        for route in plan:
            policy = self._policy_for(route)
            breaker = self._breakers.for_route(route, policy)
            for number in range(policy.retries + 1):
                ticket = breaker.acquire()
                if ticket is None:
                    trail.note(route, "circuit_open")
                    metrics.attempt(route.name, route.id, "circuit_open")
                    break
                span = ctx.attempt_span = _attempt_span(ctx, route, operation, number)
                # Per attempt: a fallback runs its own route's script.
                hooks = self._hooks_for(route, ctx) if self._hooks_for is not None else None
                try:
                    result = await attempt(route, policy, ticket, hooks)
                except TimeoutError:
                    error: GatewayError = UpstreamTimeout(
                        f"Upstream for model '{route.name}' timed out.", cause="timeout"
                    )
                except GatewayError as exc:
                    error = exc
                except BaseException:
                    ticket.release()
                    span.fail("cancelled")
                    span.end()
                    raise
                else:
                    trail.note(route, "ok")
                    trail.served_by = route
                    metrics.attempt(route.name, route.id, "ok")
                    if route.name != trail.requested:
                        metrics.fallback(trail.requested, route.name)
                    span.end()
                    return route, ticket, result
                finally:
                    ctx.attempt_span = NO_SPAN
                metrics.attempt(route.name, route.id, error.code or "error")
                span.fail(error.cause or error.code or "error", error.message)
                span.end()
                if isinstance(error, UpstreamTimeout) and _caller_deadline_passed(ctx):
                    # The caller's own deadline ran out, not the deployment's patience: it
                    # says nothing about the deployment's health, and nobody waits any more.
                    trail.note(route, "caller_deadline")
                    ticket.release()
                    raise error
                kind = classify(error)
                trail.note(route, error.code or "error")
                last = error
                if kind == _FATAL:
                    ticket.success()  # the deployment answered; the request was at fault
                    raise error
                if kind == _IGNORE:
                    ticket.release()
                    raise error
                ticket.failure()
                if kind == _FALL_BACK or number == policy.retries:
                    break
                delay = backoff_delay(policy, number, error.retry_after, self._rnd)
                if delay is None:
                    break
                metrics.retry(route.name, route.id)
                await self._sleep(delay)
        if last is not None:
            raise last
        raise self._all_open(trail.requested)

    def _all_open(self, name: str) -> GatewayError:
        waits = [
            self._breakers.for_route(route, self._policy_for(route)).retry_after()
            for route in self._models.deployments().get(name, ())
        ]
        retry_after = max(1.0, min(waits)) if waits else 1.0
        return UpstreamUnavailable(
            f"No deployment of model '{name}' is available right now (circuits open); "
            "try again shortly.",
            status=503,
            code="circuit_open",
            retry_after=retry_after,
        )


def _attempt_span(ctx: CallContext, route: Route, operation: str, number: int) -> Span:
    """The span of one upstream attempt (a no-op unless the request is traced)."""
    if not ctx.span.recording:
        return NO_SPAN
    return ctx.span.child(
        f"{operation} {route.upstream_model}",
        {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": route.vendor,
            "gen_ai.system": route.vendor,
            "gen_ai.request.model": route.upstream_model,
            "lowart.route": route.name,
            "lowart.deployment": route.id,
            "lowart.attempt": number + 1,
        },
        client=True,
    )


def _timed_out(route: Route, first_by: float | None, total: float | None) -> UpstreamTimeout:
    """The deployment's own limit that ran out: until the first byte, or the whole call."""
    first = first_by is not None and (total is None or first_by <= total)
    return UpstreamTimeout(
        f"Upstream for model '{route.name}' exceeded its "
        + ("first byte timeout." if first else "total timeout."),
        cause="first_byte_timeout" if first else "total_timeout",
    )


def _caller_deadline_passed(ctx: CallContext) -> bool:
    """Whether the deadline the caller set (a gRPC deadline) is what ended the call."""
    return ctx.timeout is not None and time.perf_counter() - ctx.started >= ctx.timeout * 0.98


def _min(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


async def close_quietly(iterator: AsyncIterator[Any]) -> None:
    """Close an upstream stream; a failure while closing changes nothing for the caller."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()

"""Circuit breakers: stop sending traffic to a deployment that keeps failing.

Closed, a breaker watches a sliding time window of outcomes; when at least
`breaker_min_calls` calls ended there and the failure ratio reaches
`breaker_failure_ratio`, it opens. Open, it refuses calls for
`breaker_cooldown` seconds, then lets `breaker_probes` calls through
(half-open): if they all succeed it closes, one failure opens it again.

Each call holds a `Ticket`, so an outcome is counted once and a probe that
never finished (client went away) gives its slot back.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from lowart.routing._policy import Policy
from lowart.types import Route

__all__ = ["BreakerSnapshot", "Breakers", "CircuitBreaker", "Ticket"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    state: str
    calls: int
    failures: int
    open_until: float | None
    """Wall-clock time (epoch seconds) the cool-down ends, while open."""


class Ticket:
    """The right to make one call through a breaker; resolve it exactly once."""

    __slots__ = ("_breaker", "_done", "probe")

    def __init__(self, breaker: CircuitBreaker, probe: bool) -> None:
        self._breaker = breaker
        self.probe = probe
        self._done = False

    def success(self) -> None:
        self._resolve(True)

    def failure(self) -> None:
        self._resolve(False)

    def release(self) -> None:
        """The call ended without telling anything about the deployment's health."""
        if not self._done:
            self._done = True
            self._breaker._release(self)

    def _resolve(self, ok: bool) -> None:
        if not self._done:
            self._done = True
            self._breaker._record(self, ok)


class CircuitBreaker:
    def __init__(
        self,
        policy: Policy,
        on_change: Callable[[BreakerSnapshot], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._on_change = on_change
        self._clock = clock
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._failures = 0
        self.state = CLOSED
        self._opened_at = 0.0
        self._probes_out = 0
        self._probe_successes = 0

    # -- asking ---------------------------------------------------------
    def available(self) -> bool:
        """Would a call be let through now? (does not claim a probe slot)"""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            return self._clock() >= self._opened_at + self.policy.breaker_cooldown
        return self._probes_out < self.policy.breaker_probes

    def retry_after(self) -> float:
        if self.state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.policy.breaker_cooldown - self._clock())

    def acquire(self) -> Ticket | None:
        if self.state == OPEN:
            if not self.available():
                return None
            self._to(HALF_OPEN)
        if self.state == HALF_OPEN:
            if self._probes_out >= self.policy.breaker_probes:
                return None
            self._probes_out += 1
            return Ticket(self, probe=True)
        return Ticket(self, probe=False)

    def snapshot(self) -> BreakerSnapshot:
        self._expire(self._clock())
        open_until = None
        if self.state == OPEN:
            open_until = time.time() + self.retry_after()
        return BreakerSnapshot(self.state, len(self._outcomes), self._failures, open_until)

    # -- outcomes -------------------------------------------------------
    def _record(self, ticket: Ticket, ok: bool) -> None:
        if ticket.probe:
            self._probes_out = max(0, self._probes_out - 1)
            if self.state != HALF_OPEN:
                return
            if not ok:
                self._open()
                return
            self._probe_successes += 1
            if self._probe_successes >= self.policy.breaker_probes:
                self._outcomes.clear()
                self._failures = 0
                self._to(CLOSED)
            return
        if self.state != CLOSED:
            return  # a call admitted before the breaker opened says nothing new
        now = self._clock()
        self._outcomes.append((now, ok))
        self._failures += not ok
        self._expire(now)
        policy = self.policy
        calls = len(self._outcomes)
        if (
            not ok
            and calls >= policy.breaker_min_calls
            and self._failures / calls >= policy.breaker_failure_ratio
        ):
            self._open()

    def reset(self) -> None:
        """An operator's word that the deployment is fine: closed, with a clean window."""
        self._outcomes.clear()
        self._failures = 0
        self._probes_out = 0
        self._probe_successes = 0
        if self.state == CLOSED and self._on_change is not None:
            self._on_change(self.snapshot())  # published anyway: other views catch up
        self._to(CLOSED)

    def _release(self, ticket: Ticket) -> None:
        if ticket.probe:
            self._probes_out = max(0, self._probes_out - 1)

    def _expire(self, now: float) -> None:
        cutoff = now - self.policy.breaker_window
        outcomes = self._outcomes
        while outcomes and outcomes[0][0] <= cutoff:
            _, ok = outcomes.popleft()
            self._failures -= not ok

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._probe_successes = 0
        self._to(OPEN)

    def _to(self, state: str) -> None:
        if state == HALF_OPEN:
            self._probe_successes = 0
            self._probes_out = 0
        changed = state != self.state
        self.state = state
        if changed and self._on_change is not None:
            self._on_change(self.snapshot())


class Breakers:
    """One breaker per deployment (route id), created on first use."""

    def __init__(
        self,
        on_change: Callable[[int, BreakerSnapshot], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._by_id: dict[int, CircuitBreaker] = {}
        self._on_change = on_change
        self._clock = clock
        self.generation = 0
        """Moves whenever any breaker changes state (what cached plans depend on)."""

    def for_route(self, route: Route, policy: Policy) -> CircuitBreaker:
        breaker = self._by_id.get(route.id)
        if breaker is None:
            on_change = self._on_change
            route_id = route.id

            def notify(snapshot: BreakerSnapshot) -> None:
                self.generation += 1
                if on_change is not None:
                    on_change(route_id, snapshot)

            breaker = self._by_id[route.id] = CircuitBreaker(policy, notify, self._clock)
        else:
            breaker.policy = policy
        return breaker

    def snapshot(self, route_id: int) -> BreakerSnapshot | None:
        breaker = self._by_id.get(route_id)
        return breaker.snapshot() if breaker is not None else None

    def reset(self, route_id: int) -> bool:
        """Close this process's breaker of a deployment; False if it never used one."""
        breaker = self._by_id.get(route_id)
        if breaker is None:
            return False
        breaker.reset()
        return True

    def live_state(self, route_id: int) -> str | None:
        """This process's circuit state for a deployment, None if it has not used it.

        An open circuit whose cool-down is over reads `half_open`: the next request
        probes it (what the published state says too)."""
        breaker = self._by_id.get(route_id)
        if breaker is None:
            return None
        if breaker.state == OPEN and breaker.retry_after() <= 0:
            return HALF_OPEN
        return breaker.state

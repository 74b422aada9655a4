"""Per-key limits: requests and tokens per minute, concurrency and a token quota.

Admission is two steps, so a refused caller costs nothing: `acquire` first
counts the request against the requests-per-minute and concurrency limits and
refuses a key whose quota is already gone, before anything is tokenized; then
`Admission.reserve(prompt, completion)` reserves its tokens against the TPM and
the quota. A request without a completion limit reserves all that remains of
them, so concurrent requests of a token-limited key cannot overshoot by more
than one request (set max_tokens to run several at once). `settle` replaces
the reservation with the real usage when the request ends, exactly once on
every way it ends. `InProcessLimiter` keeps the counters in this process;
`RedisLimiter` (in `_redis_limiter.py`) keeps them in Redis so several gateway
processes share them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from lowart.auth._budget import (
    SpendBaseline,
    budget_exceeded,
    budget_nanos,
    cost_estimate,
    nanos,
)
from lowart.auth._periods import QuotaWindow, quota_window
from lowart.errors import QuotaExceeded, RateLimited
from lowart.types import Price, Principal

__all__ = [
    "Admission",
    "InProcessLimiter",
    "Limiter",
    "QuotaBaseline",
    "is_limited",
    "needs_estimate",
    "quota_exceeded",
    "too_many_concurrent",
    "too_many_requests",
    "too_many_tokens",
]

_WINDOW = 60.0

QuotaBaseline = Callable[[int, date | None], Awaitable[int]]
"""Tokens a key already used since a day (None: ever), read from the usage store."""


def needs_estimate(principal: Principal) -> bool:
    return (
        principal.tpm is not None
        or principal.quota_tokens is not None
        or principal.budget is not None
    )


def is_limited(principal: Principal) -> bool:
    """Keys without any limit skip the limiter entirely (no counters, no Redis)."""
    return (
        principal.rpm is not None
        or principal.max_concurrency is not None
        or needs_estimate(principal)
    )


def too_many_requests(principal: Principal, retry_after: float) -> RateLimited:
    return RateLimited(
        f"Rate limit of {principal.rpm} requests per minute reached for key '{principal.name}'.",
        retry_after=retry_after,
    )


def too_many_tokens(principal: Principal, retry_after: float) -> RateLimited:
    return RateLimited(
        f"Token limit of {principal.tpm} tokens per minute reached for key '{principal.name}'.",
        retry_after=retry_after,
    )


def too_many_concurrent(principal: Principal) -> RateLimited:
    return RateLimited(
        f"Key '{principal.name}' already has {principal.max_concurrency} requests in flight.",
        retry_after=1.0,
    )


def quota_exceeded(principal: Principal, window: QuotaWindow, used: int) -> QuotaExceeded:
    scope = {"total": "", "day": " for today (UTC)", "month": " for this month (UTC)"}
    return QuotaExceeded(
        f"Token quota of {principal.quota_tokens}{scope.get(principal.quota_period, '')} for key "
        f"'{principal.name}' is exhausted ({used} used).",
        retry_after=window.seconds_left,
    )


class Admission:
    """A granted request; `settle` replaces the estimate with what was really used
    and frees its concurrency slot. Settling twice does nothing.

    This base class is the admission of a key without limits.
    """

    __slots__ = ()

    async def reserve(
        self,
        prompt: int,
        completion: int | None,
        price: Price | None = None,
        cost: Decimal | None = None,
    ) -> None:
        """Reserve `prompt` + `completion` tokens (None: all that remains of the key's
        TPM and quota) and what they cost at `price` (None: all that remains of the
        key's budget), or `cost` when it is known up front (images), or raise
        RateLimited / QuotaExceeded. Nothing is limited here."""

    def settle(self, actual_tokens: int, cost: Decimal | None = None) -> None:
        """Nothing was counted, so nothing to settle."""


class _LocalAdmission(Admission):
    __slots__ = (
        "_budget",
        "_budget_window",
        "_cost",
        "_entry",
        "_estimate",
        "_principal",
        "_quota",
        "_settled",
        "_state",
        "_window",
    )

    def __init__(
        self,
        state: _KeyState,
        entry: list[float] | None,
        estimate: int,
        quota: list[int] | None = None,
        principal: Principal | None = None,
        window: QuotaWindow | None = None,
        budget: list[int] | None = None,
        budget_window: QuotaWindow | None = None,
    ) -> None:
        self._state = state
        self._entry = entry
        self._estimate = estimate
        self._quota = quota
        self._principal = principal
        self._window = window
        self._budget = budget  # [spent + reserved] in nano-units, shared per key and window
        self._budget_window = budget_window
        self._cost = 0  # what this request reserved of the budget
        self._settled = False

    async def reserve(
        self,
        prompt: int,
        completion: int | None,
        price: Price | None = None,
        cost: Decimal | None = None,
    ) -> None:
        self.reserve_now(prompt, completion, price, cost)

    def reserve_now(
        self,
        prompt: int,
        completion: int | None,
        price: Price | None = None,
        known_cost: Decimal | None = None,
    ) -> None:
        """Check and reserve in one synchronous step (nothing can interleave)."""
        principal, state, quota, entry = self._principal, self._state, self._quota, self._entry
        if principal is None or self._settled:
            return
        cost = self._budget_cost(principal, prompt, completion, price, known_cost)
        now = time.monotonic()
        state.expire(now)
        remaining: float | None = None
        if quota is not None and principal.quota_tokens is not None:
            remaining = principal.quota_tokens - quota[0] - prompt
        if principal.tpm is not None:
            left = principal.tpm - state.tokens_in_window - prompt
            remaining = left if remaining is None else min(remaining, left)
        if completion is not None:
            extra = prompt + completion
        else:
            extra = prompt + max(int(remaining or 0), 0)
        if quota is not None and self._window is not None and principal.quota_tokens is not None:
            if quota[0] + extra > principal.quota_tokens:
                raise quota_exceeded(principal, self._window, quota[0])
        if principal.tpm is not None and entry is not None and entry[0] >= 0:
            others = len(state.tokens) - 1
            if others > 0 and state.tokens_in_window + extra > principal.tpm:
                raise too_many_tokens(principal, max(0.0, state.tokens[0][0] + _WINDOW - now))
        if entry is not None and entry[0] >= 0:
            entry[1] += extra
            state.tokens_in_window += extra
        if quota is not None:
            quota[0] += extra
        self._estimate += extra
        if self._budget is not None:
            self._budget[0] += cost
            self._cost += cost

    def _budget_cost(
        self,
        principal: Principal,
        prompt: int,
        completion: int | None,
        price: Price | None,
        known_cost: Decimal | None,
    ) -> int:
        """What to reserve of the budget (checked, nothing changed yet): the request's
        most expensive outcome, or without a completion limit all that remains."""
        budget, limit = self._budget, budget_nanos(principal)
        if budget is None or limit is None or self._budget_window is None:
            return 0
        if known_cost is not None:
            cost = nanos(known_cost)
        else:
            cost = cost_estimate(price, prompt, completion or 0)
        if completion is None and price is not None and known_cost is None:
            cost = max(cost, limit - budget[0])
        if budget[0] + cost > limit or budget[0] >= limit:
            raise budget_exceeded(principal, self._budget_window, budget[0])
        return cost

    def settle(self, actual_tokens: int, cost: Decimal | None = None) -> None:
        if self._settled:
            return
        self._settled = True
        state = self._state
        state.in_flight -= 1
        entry = self._entry
        if entry is not None and entry[0] >= 0:  # still inside the window
            state.tokens_in_window += actual_tokens - entry[1]
            entry[1] = actual_tokens
        if self._quota is not None:
            self._quota[0] += actual_tokens - self._estimate
        if self._budget is not None:
            self._budget[0] += nanos(cost) - self._cost


_UNLIMITED = Admission()


class Limiter(Protocol):
    """What the Gateway needs from a limits backend (in-process or Redis)."""

    def needs_estimate(self, principal: Principal) -> bool: ...

    async def acquire(self, principal: Principal, estimate: int) -> Admission:
        """Count the request in, or raise RateLimited / QuotaExceeded."""
        ...

    async def close(self) -> None: ...


@dataclass
class _KeyState:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[list[float]] = field(default_factory=deque)  # [timestamp, tokens]
    tokens_in_window: float = 0.0
    in_flight: int = 0
    quotas: dict[str, list[int]] = field(default_factory=dict)
    """Per quota window: [used + reserved tokens]."""
    budgets: dict[str, list[int]] = field(default_factory=dict)
    """Per budget window: [spent + reserved nano-units]."""

    def expire(self, now: float) -> None:
        cutoff = now - _WINDOW
        while self.requests and self.requests[0] <= cutoff:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= cutoff:
            entry = self.tokens.popleft()
            self.tokens_in_window -= entry[1]
            entry[0] = -1.0  # a late settle must not touch the window any more


class InProcessLimiter:
    """Limits kept in this process's memory: exact here, not shared with other processes."""

    def __init__(
        self, baseline: QuotaBaseline | None = None, spent: SpendBaseline | None = None
    ) -> None:
        self._states: dict[int, _KeyState] = {}
        self._baseline = baseline
        self._spent = spent

    needs_estimate = staticmethod(needs_estimate)

    async def close(self) -> None:
        """Nothing to release; present so every limiter closes the same way."""

    async def acquire(self, principal: Principal, estimate: int) -> Admission:
        """`admit`, after loading the key's quota usage from the store on first sight."""
        used = 0
        if principal.quota_tokens is not None and self._baseline is not None:
            window = quota_window(principal.quota_period)
            state = self._states.get(principal.key_id)
            if state is None or window.id not in state.quotas:
                used = await self._baseline(principal.key_id, window.start)
        spent = 0
        if principal.budget is not None and self._spent is not None:
            window = quota_window(principal.budget_period)
            state = self._states.get(principal.key_id)
            if state is None or window.id not in state.budgets:
                spent = nanos(await self._spent(principal.key_id, window.start))
        return self.admit(principal, estimate, used, spent)

    def admit(
        self, principal: Principal, estimate: int, used_at_load: int = 0, spent_at_load: int = 0
    ) -> Admission:
        """Check and reserve in one synchronous step (nothing can interleave).

        `used_at_load` is the quota already used in the current window, and
        `spent_at_load` the budget already spent in its window (nano-units), taken
        the first time this process sees the key in that window.
        """
        if not is_limited(principal):
            return _UNLIMITED
        state = self._states.get(principal.key_id)
        if state is None:
            state = self._states[principal.key_id] = _KeyState()
        quota = None
        window = None
        quota_tokens = 0  # read only when `quota` is set below
        if principal.quota_tokens is not None:
            quota_tokens = principal.quota_tokens
            window = quota_window(principal.quota_period)
            quota = state.quotas.get(window.id)
            if quota is None:
                state.quotas.clear()  # an old day's or month's counter is done with
                quota = state.quotas[window.id] = [used_at_load]
        budget, budget_window = self._budget(principal, state, spent_at_load)
        now = time.monotonic()
        state.expire(now)
        if quota is not None and window is not None and quota[0] + estimate > quota_tokens:
            raise quota_exceeded(principal, window, quota[0])
        limit = budget_nanos(principal)
        if budget is not None and budget_window is not None and limit is not None:
            if budget[0] >= limit:
                raise budget_exceeded(principal, budget_window, budget[0])
        if principal.rpm is not None and len(state.requests) >= principal.rpm:
            raise too_many_requests(principal, max(0.0, state.requests[0] + _WINDOW - now))
        if (
            principal.tpm is not None
            and state.tokens
            and state.tokens_in_window + estimate > principal.tpm
        ):
            raise too_many_tokens(principal, max(0.0, state.tokens[0][0] + _WINDOW - now))
        if principal.max_concurrency is not None and state.in_flight >= principal.max_concurrency:
            raise too_many_concurrent(principal)
        if principal.rpm is not None:
            state.requests.append(now)
        entry = None
        if principal.tpm is not None:
            entry = [now, float(estimate)]
            state.tokens.append(entry)
            state.tokens_in_window += estimate
        if quota is not None:
            quota[0] += estimate
        state.in_flight += 1
        return _LocalAdmission(
            state, entry, estimate, quota, principal, window, budget, budget_window
        )

    @staticmethod
    def _budget(
        principal: Principal, state: _KeyState, spent_at_load: int
    ) -> tuple[list[int] | None, QuotaWindow | None]:
        """The key's budget counter for the current window (made on first sight)."""
        if principal.budget is None:
            return None, None
        window = quota_window(principal.budget_period)
        budget = state.budgets.get(window.id)
        if budget is None:
            state.budgets.clear()  # an old day's or month's counter is done with
            budget = state.budgets[window.id] = [spent_at_load]
        return budget, window

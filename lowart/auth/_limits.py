"""Per-key request and token limits, enforced in this process.

Token limits admit a request on an estimate and settle to the real usage when
it ends, so a burst of concurrent requests cannot overshoot by more than the
estimates allow.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from lowart.errors import QuotaExceeded, RateLimited
from lowart.types import Principal

__all__ = ["Admission", "InProcessLimiter"]

_WINDOW = 60.0


@dataclass
class _KeyState:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[list[float]] = field(default_factory=deque)  # [timestamp, tokens]
    tokens_in_window: float = 0.0
    quota_used: int = 0
    quota_reserved: int = 0

    def expire(self, now: float) -> None:
        cutoff = now - _WINDOW
        while self.requests and self.requests[0] <= cutoff:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= cutoff:
            self.tokens_in_window -= self.tokens.popleft()[1]


class Admission:
    """A granted request; `settle` replaces the estimate with what was really used."""

    __slots__ = ("_entry", "_estimate", "_settled", "_state")

    def __init__(self, state: _KeyState | None, entry: list[float] | None, estimate: int) -> None:
        self._state = state
        self._entry = entry
        self._estimate = estimate
        self._settled = False

    def settle(self, actual_tokens: int) -> None:
        if self._settled or self._state is None:
            return
        self._settled = True
        state = self._state
        if self._entry is not None:
            delta = actual_tokens - self._entry[1]
            self._entry[1] = actual_tokens
            state.tokens_in_window += delta
        state.quota_reserved -= self._estimate
        state.quota_used += actual_tokens


_UNLIMITED = Admission(None, None, 0)


class InProcessLimiter:
    def __init__(self) -> None:
        self._states: dict[int, _KeyState] = {}

    @staticmethod
    def needs_estimate(principal: Principal) -> bool:
        return principal.tpm is not None or principal.quota_tokens is not None

    def admit(self, principal: Principal, estimate: int, used_at_load: int = 0) -> Admission:
        if principal.rpm is None and not self.needs_estimate(principal):
            return _UNLIMITED
        state = self._states.get(principal.key_id)
        if state is None:
            state = self._states[principal.key_id] = _KeyState(quota_used=used_at_load)
        now = time.monotonic()
        state.expire(now)
        self._check_quota(principal, state, estimate)
        self._check_rpm(principal, state, now)
        self._check_tpm(principal, state, estimate, now)
        if principal.rpm is not None:
            state.requests.append(now)
        entry = None
        if principal.tpm is not None:
            entry = [now, float(estimate)]
            state.tokens.append(entry)
            state.tokens_in_window += estimate
        state.quota_reserved += estimate
        return Admission(state, entry, estimate)

    @staticmethod
    def _check_quota(principal: Principal, state: _KeyState, estimate: int) -> None:
        quota = principal.quota_tokens
        if quota is None:
            return
        if state.quota_used + state.quota_reserved + estimate > quota:
            raise QuotaExceeded(
                f"Token quota of {quota} for key '{principal.name}' is exhausted "
                f"({state.quota_used} used)."
            )

    @staticmethod
    def _check_rpm(principal: Principal, state: _KeyState, now: float) -> None:
        if principal.rpm is not None and len(state.requests) >= principal.rpm:
            retry = max(0.0, state.requests[0] + _WINDOW - now)
            raise RateLimited(
                f"Rate limit of {principal.rpm} requests per minute reached for key "
                f"'{principal.name}'.",
                retry_after=retry,
            )

    @staticmethod
    def _check_tpm(principal: Principal, state: _KeyState, estimate: int, now: float) -> None:
        if principal.tpm is None:
            return
        if state.tokens_in_window + estimate > principal.tpm and state.tokens:
            retry = max(0.0, state.tokens[0][0] + _WINDOW - now)
            raise RateLimited(
                f"Token limit of {principal.tpm} tokens per minute reached for key "
                f"'{principal.name}'.",
                retry_after=retry,
            )

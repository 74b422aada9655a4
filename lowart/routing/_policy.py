"""Per-deployment resilience settings, read from the route's options.

They travel in the same `options` object as the vendor settings (set with
`--option NAME=VALUE`), are checked when an operator sets them, and are
parsed once per configuration load, never per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from lowart.errors import InvalidRequest

__all__ = ["Policy", "policy_from_options", "validate_policy_options"]


@dataclass(frozen=True, slots=True)
class Policy:
    retries: int = 2
    """Extra attempts on the same deployment after a retryable failure."""
    retry_backoff: float = 0.5
    """First backoff in seconds; doubles per attempt, with jitter."""
    retry_backoff_max: float = 8.0
    max_retry_wait: float = 10.0
    """A Retry-After longer than this moves on to the next candidate instead of waiting."""
    connect_timeout: float | None = None
    """Read by the adapter (TCP connect); listed here so it is validated with the rest."""
    first_byte_timeout: float | None = None
    """Until the first stream chunk, or the whole answer of a non-streaming call."""
    total_timeout: float | None = None
    """The whole call, stream included."""
    breaker_window: float = 60.0
    breaker_min_calls: int = 5
    breaker_failure_ratio: float = 0.5
    breaker_cooldown: float = 30.0
    breaker_probes: int = 1


_INTS = {"retries": 0, "breaker_min_calls": 1, "breaker_probes": 1}
_FLOATS = {
    "retry_backoff": 0.0,
    "retry_backoff_max": 0.0,
    "max_retry_wait": 0.0,
    "connect_timeout": 0.001,
    "first_byte_timeout": 0.001,
    "total_timeout": 0.001,
    "breaker_window": 0.001,
    "breaker_cooldown": 0.0,
}
_NAMES = {f.name for f in fields(Policy)}


def _check(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidRequest(f"Option '{name}' must be a number.", param="options")
    if name in _INTS:
        if value != int(value) or value < _INTS[name]:
            raise InvalidRequest(
                f"Option '{name}' must be an integer of at least {_INTS[name]}.", param="options"
            )
        if name == "retries" and value > 10:
            raise InvalidRequest("Option 'retries' must be at most 10.", param="options")
        return int(value)
    if name == "breaker_failure_ratio":
        if not 0 < value <= 1:
            raise InvalidRequest(
                "Option 'breaker_failure_ratio' must be in (0, 1].", param="options"
            )
        return float(value)
    if value < _FLOATS[name]:
        raise InvalidRequest(f"Option '{name}' must be positive.", param="options")
    return float(value)


def validate_policy_options(options: dict[str, Any]) -> None:
    """Reject bad resilience options when they are configured, with a clear message."""
    for name, value in options.items():
        if name in _NAMES and value is not None:
            _check(name, value)


def policy_from_options(options: dict[str, Any]) -> Policy:
    # each value checked and converted to its field's kind by _check
    values: dict[str, Any] = {
        name: _check(name, value)
        for name, value in options.items()
        if name in _NAMES and value is not None
    }
    return Policy(**values)

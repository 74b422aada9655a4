"""Spending budgets: the counters and the refusal.

A budget is counted like the token quota (reserve an estimate, settle with the
real cost), in whole nano-units (10^-9 of the currency), rounded up: integers
every backend adds exactly (Redis's INCRBY, and Lua's doubles below 2^53, which
a budget of at most MAX_BUDGET keeps them under).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import ROUND_CEILING, Decimal

from lowart.auth._periods import QuotaWindow
from lowart.errors import QuotaExceeded
from lowart.types import Price, Principal

__all__ = [
    "MAX_BUDGET",
    "SpendBaseline",
    "budget_exceeded",
    "budget_nanos",
    "cost_estimate",
    "nanos",
]

MAX_BUDGET = Decimal(1_000_000)
_NANO = Decimal("1e-9")
_MAX_COUNTED = 2 * 10**15  # one request's cost as counted: past any budget, below 2^53

SpendBaseline = Callable[[int, date | None], Awaitable[Decimal]]
"""What a key already spent since a day (None: ever), read from the usage store."""


def nanos(amount: Decimal | None) -> int:
    """An amount as counted: whole nano-units, rounded up, within 0.._MAX_COUNTED."""
    if not amount or amount < 0:
        return 0
    units = int((amount / _NANO).to_integral_value(ROUND_CEILING))
    return min(units, _MAX_COUNTED)


def budget_nanos(principal: Principal) -> int | None:
    return None if principal.budget is None else nanos(principal.budget)


def cost_estimate(price: Price | None, prompt: int, completion: int) -> int:
    """What a request may cost at most (its prompt at the input rate, its completion
    limit at the output rate), counted; 0 on a route without a price."""
    return 0 if price is None else nanos(price.of_tokens(prompt, completion))


def budget_exceeded(principal: Principal, window: QuotaWindow, spent: int) -> QuotaExceeded:
    scope = {"total": "", "day": " for today (UTC)", "month": " for this month (UTC)"}
    return QuotaExceeded(
        f"Spending budget of {_text(principal.budget or Decimal(0))}"
        f"{scope.get(principal.budget_period, '')} for key '{principal.name}' is used up"
        f" ({_text(Decimal(spent) * _NANO)} spent or reserved).",
        retry_after=window.seconds_left,
    )


def _text(amount: Decimal) -> str:
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

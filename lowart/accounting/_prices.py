"""Prices: the operator's per route, else the shipped, dated table's.

The table (`data/prices.json`) holds vendors' list prices for well-known models
on its `as_of` date, so a route costs something useful without configuration;
a route's own prices always win. A route's upstream model matches a table
entry exactly or as a dated or suffixed variant of it (`gpt-4o-2024-08-06`
matches `gpt-4o`, `claude-sonnet-4-5-20250929` matches `claude-sonnet-4-5`);
the longest matching entry wins, so `gpt-4o-mini` is never priced as `gpt-4o`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import orjson

from lowart.types import Price

__all__ = [
    "MAX_PRICE",
    "PRICE_COLUMNS",
    "PriceTable",
    "check_currency",
    "check_price",
    "price_table",
    "route_price",
]

# Rates are bounded so every cost fits the usage store's columns exactly.
MAX_PRICE = Decimal(1_000_000)
_SCALE = Decimal("0.000001")  # at most six decimals per rate

PRICE_COLUMNS = {
    "price_in": "input",
    "price_out": "output",
    "price_cached": "cached",
    "price_image": "image",
}
"""A models row's price columns and the Price field each one sets."""


def check_price(name: str, value: object) -> Decimal:
    """A rate as an exact decimal: non-negative, at most MAX_PRICE, at most six decimals.
    Raises ValueError saying what is wrong (the admin checks turn it into a 400)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"'{name}' must be a decimal number, e.g. \"2.50\".")
    try:
        # A float goes through its shortest text form: 0.1 is "0.1", not 0.1000000000000000055...
        price = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"'{name}' must be a decimal number, e.g. \"2.50\".") from exc
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise ValueError(f"'{name}' must be between 0 and {MAX_PRICE}.")
    if price != price.quantize(_SCALE):
        raise ValueError(f"'{name}' may have at most six decimals.")
    return price.quantize(_SCALE).normalize()


def check_currency(value: object) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ValueError("'currency' must be a three-letter code such as USD or EUR.")
    return value.upper()


class PriceTable:
    """Prices by model name, matched exactly or by the longest `name-` prefix."""

    def __init__(self, as_of: str, entries: Mapping[str, Price]) -> None:
        self.as_of = as_of
        self._entries = {name.lower(): price for name, price in entries.items()}
        # Longest first: the first prefix that matches is the most specific entry.
        self._by_length = sorted(self._entries, key=len, reverse=True)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, upstream_model: str) -> Price | None:
        name = upstream_model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o" is gpt-4o
        exact = self._entries.get(name)
        if exact is not None:
            return exact
        for entry in self._by_length:
            if name.startswith(entry) and name[len(entry)] in "-@:":
                return self._entries[entry]
        return None

    @classmethod
    def from_json(cls, raw: bytes) -> PriceTable:
        data = orjson.loads(raw)
        currency = check_currency(data.get("currency", "USD"))
        entries: dict[str, Price] = {}
        for name, rates in data["models"].items():
            values = {field: check_price(f"{name}.{field}", rates[field]) for field in rates}
            entries[name] = Price(**values, currency=currency, source="table")
        return cls(str(data["as_of"]), entries)


@functools.cache
def price_table() -> PriceTable:
    """The shipped table, read once per process on first use."""
    raw = resources.files("lowart.accounting").joinpath("data", "prices.json").read_bytes()
    return PriceTable.from_json(raw)


def route_price(row: Mapping[str, Any], table: PriceTable | None = None) -> Price | None:
    """A models row's price: its own rates when any is set, else the table's entry for
    its upstream model, else None (its calls are recorded without a cost)."""
    own = {field: row.get(column) for column, field in PRICE_COLUMNS.items()}
    if any(rate is not None for rate in own.values()):
        rates = {field: Decimal(rate) for field, rate in own.items() if rate is not None}
        return Price(**rates, currency=row.get("currency") or "USD", source="route")
    return (table or price_table()).lookup(str(row.get("upstream_model") or ""))

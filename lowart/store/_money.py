"""Money columns: exact decimals on PostgreSQL and on SQLite.

PostgreSQL's NUMERIC is exact. SQLite has no decimal type (a NUMERIC column
turns 0.1 into a binary float, and SUM adds floats), so there the amount is
kept as an integer count of 10^-12 units: exact to store, and exact to SUM in
SQL. Every cost lowart computes has at most twelve decimals (rates have six,
per million tokens), so nothing is rounded on either database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["MONEY_SCALE", "Money", "to_units"]

MONEY_SCALE = 12
_UNIT = Decimal(1).scaleb(-MONEY_SCALE)


def to_units(value: Decimal) -> int:
    """An amount as an integer of 10^-12 units (rounded half-even past twelve decimals)."""
    return int(value.quantize(_UNIT).scaleb(MONEY_SCALE))


class Money(TypeDecorator[Decimal]):
    impl = sa.Numeric(24, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(24, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        return to_units(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE)
        return Decimal(value)

"""Usage reports an operator can act on, read from the raw usage records.

Grouped by model, key, day, hour, interface or vendor, with a totals row:
requests, errors and the error rate, tokens, cost, and the 50th and 95th
percentile of latency and of time to first token. Everything is computed in
SQL, on SQLite and PostgreSQL alike, so a report over millions of rows moves
one row per group to Python. Percentiles are nearest-rank (the value at rank
ceil(p * n) in the group, by ROW_NUMBER over the group), the same definition
on both databases; no interpolation, so each is a latency that was measured.

The daily rollups (`UsageStore.summary`) keep totals past the raw records'
retention; this report covers the raw records that are kept.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._tables import usage_records

__all__ = ["REPORT_GROUPS", "UsageFilter", "usage_report"]

REPORT_GROUPS = {
    "model": "route",
    "key": "key_name",
    "day": "day",
    "hour": "hour",
    "interface": "interface",
    "vendor": "vendor",
}
"""What a report can group by, and the field each group's name goes in."""

_TOTAL = "total"
_u = usage_records.c


class UsageFilter:
    """Which raw records a report or a log reads (every part optional)."""

    __slots__ = ("interface", "key_id", "key_name", "route", "since", "status", "until")

    def __init__(
        self,
        *,
        since: datetime | None = None,
        key_id: int | None = None,
        key_name: str | None = None,
        route: str | None = None,
        status: str | None = None,
        interface: str | None = None,
        until: datetime | None = None,
    ) -> None:
        self.since = since
        self.until = until
        self.key_id = key_id
        self.key_name = key_name
        self.route = route
        self.status = status
        self.interface = interface

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        where: list[sa.ColumnElement[bool]] = []
        if self.since is not None:
            where.append(_u.created_at >= self.since)
        if self.until is not None:
            where.append(_u.created_at < self.until)
        if self.key_id is not None:
            where.append(_u.key_id == self.key_id)
        if self.key_name is not None:
            where.append(_u.key_name == self.key_name)
        if self.route is not None:
            where.append(_u.route == self.route)
        if self.status is not None:
            where.append(_u.status == self.status)
        if self.interface is not None:
            where.append(_u.interface == self.interface)
        return where


def _group(by: str, dialect: str) -> sa.ColumnElement[Any]:
    """The column or expression a report groups by (UTC days and hours as text)."""
    if by in ("day", "hour"):
        if dialect == "postgresql":
            pattern = "YYYY-MM-DD" if by == "day" else 'YYYY-MM-DD"T"HH24'
            return sa.func.to_char(sa.func.timezone("UTC", _u.created_at), pattern)
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
        text = sa.func.substr(_u.created_at, 1, 10 if by == "day" else 13)
        return text if by == "day" else sa.func.replace(text, " ", "T")
    return {
        "model": _u.route,
        "key": _u.key_name,
        "interface": _u.interface,
        "vendor": _u.vendor,
    }[by]


def _totals(group: sa.ColumnElement[Any], where: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    return (
        sa.select(
            group.label("grp"),
            sa.func.count().label("requests"),
            sa.func.sum(sa.case((_u.status != "ok", 1), else_=0)).label("errors"),
            sa.func.sum(_u.prompt_tokens).label("prompt_tokens"),
            sa.func.sum(_u.completion_tokens).label("completion_tokens"),
            sa.func.sum(_u.cache_read_tokens).label("cached_tokens"),
            sa.func.sum(_u.total_tokens).label("total_tokens"),
            sa.func.sum(_u.cost).label("cost"),
            sa.func.min(_u.currency).label("currency"),
            sa.func.count(sa.distinct(_u.currency)).label("currencies"),
            sa.func.avg(_u.latency_ms).label("avg_latency_ms"),
        )
        .where(*where)
        .group_by(group)
    )


def _percentiles(
    group: sa.ColumnElement[Any], value: sa.ColumnElement[Any], where: list[sa.ColumnElement[Any]]
) -> sa.Select[Any]:
    """p50 and p95 of `value` per group, nearest-rank, with window functions."""
    ranked = (
        sa.select(
            group.label("grp"),
            value.label("v"),
            sa.func.row_number().over(partition_by=group, order_by=value).label("rn"),
            sa.func.count().over(partition_by=group).label("n"),
        )
        .where(*where, value.is_not(None))
        .subquery()
    )

    def at(percent: int) -> sa.ColumnElement[Any]:
        # ceil(n * p / 100) in integers (both databases divide integers exactly so).
        rank = (ranked.c.n * percent + 99) // 100
        return sa.func.max(sa.case((ranked.c.rn == rank, ranked.c.v)))

    return sa.select(ranked.c.grp, at(50).label("p50"), at(95).label("p95")).group_by(ranked.c.grp)


async def usage_report(
    engine: AsyncEngine, by: str, where: UsageFilter
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one row per group, the totals row)."""
    if by not in REPORT_GROUPS:
        raise ValueError(f"cannot group usage by {by!r}; use one of {', '.join(REPORT_GROUPS)}")
    group = _group(by, engine.dialect.name)
    total: sa.ColumnElement[Any] = sa.literal(_TOTAL, sa.String)
    clauses = where.clauses()
    async with engine.connect() as conn:
        rows: dict[Any, dict[str, Any]] = {}
        for grp, key in ((group, "grp"), (total, _TOTAL)):
            for row in await conn.execute(_totals(grp, clauses)):
                rows[(key, row.grp)] = dict(row._mapping)
            for name, column in (("latency_ms", _u.latency_ms), ("ttft_ms", _u.ttft_ms)):
                for row in await conn.execute(_percentiles(grp, column, clauses)):
                    target = rows.get((key, row.grp))
                    if target is not None:
                        target[f"p50_{name}"] = row.p50
                        target[f"p95_{name}"] = row.p95
    label = REPORT_GROUPS[by]
    found = sorted(
        ((grp, row) for (key, grp), row in rows.items() if key == "grp"),
        key=lambda item: (item[0] is None, str(item[0])),
    )
    groups = [{label: grp, **_finished(row)} for grp, row in found]
    totals = next((row for (key, _), row in rows.items() if key == _TOTAL), None)
    return groups, _finished(totals or {})


def _finished(row: dict[str, Any]) -> dict[str, Any]:
    """Plain numbers: ints for counts, rounded milliseconds, the cost as an exact Decimal."""
    requests = int(row.get("requests") or 0)
    errors = int(row.get("errors") or 0)
    out: dict[str, Any] = {
        "requests": requests,
        "errors": errors,
        "error_rate": round(errors / requests, 4) if requests else 0.0,
    }
    for name in ("prompt_tokens", "completion_tokens", "cached_tokens", "total_tokens"):
        out[name] = int(row.get(name) or 0)
    cost = row.get("cost")
    out["cost"] = Decimal(cost) if cost is not None else None
    out["currency"] = row.get("currency") if int(row.get("currencies") or 0) <= 1 else "mixed"
    for name in (
        "avg_latency_ms",
        "p50_latency_ms",
        "p95_latency_ms",
        "p50_ttft_ms",
        "p95_ttft_ms",
    ):
        value = row.get(name)
        out[name] = round(float(value), 1) if value is not None else None
    return out

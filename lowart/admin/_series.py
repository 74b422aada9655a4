"""Folding raw usage records into a time series: per bucket and per group, the
requests, errors, tokens, cost and latency / time-to-first-token percentiles.

A pure function over the rows `UsageSearch.window` returns, so it can run in a
worker thread (a week of records is too many to fold on the event loop) and
be tested on its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = ["GROUPS", "fold_series"]

GROUPS = {"model": 1, "key": 2, "interface": 3, "vendor": 4, "total": None}
"""The dimension a series splits by -> its position in a window row."""

_STATUS, _PROMPT, _COMPLETION, _TOTAL, _LATENCY, _TTFT, _COST = range(5, 12)


@dataclass(slots=True)
class _Point:
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: Decimal = Decimal(0)
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)

    def add(self, row: tuple[Any, ...]) -> None:
        self.requests += 1
        self.errors += row[_STATUS] != "ok"
        self.prompt_tokens += row[_PROMPT] or 0
        self.completion_tokens += row[_COMPLETION] or 0
        self.total_tokens += row[_TOTAL] or 0
        if row[_COST] is not None:
            self.cost += row[_COST]
        if row[_LATENCY] is not None:
            self.latencies.append(float(row[_LATENCY]))
        if row[_TTFT] is not None:
            self.ttfts.append(float(row[_TTFT]))

    def public(self) -> dict[str, Any]:
        latencies, ttfts = sorted(self.latencies), sorted(self.ttfts)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost": str(self.cost.normalize()) if self.cost else "0",
            "p50_latency_ms": _percentile(latencies, 0.50),
            "p95_latency_ms": _percentile(latencies, 0.95),
            "p50_ttft_ms": _percentile(ttfts, 0.50),
            "p95_ttft_ms": _percentile(ttfts, 0.95),
        }


def _percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile (a value that was really observed), or None."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n * q)
    return round(ordered[int(rank) - 1], 2)


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def fold_series(
    rows: list[tuple[Any, ...]], *, since: float, until: float, step: int, by: str
) -> dict[str, Any]:
    """Buckets of `step` seconds from `since` to `until` (epoch seconds), one series per
    group; buckets with no records are left out of a series (`t` says which bucket)."""
    position = GROUPS[by]
    points: dict[str, dict[int, _Point]] = defaultdict(lambda: defaultdict(_Point))
    totals: dict[str, _Point] = defaultdict(_Point)
    for row in rows:
        at = _epoch(row[0])
        if not since <= at < until:
            continue
        group = "all" if position is None else str(row[position] or "-")
        bucket = int((at - since) // step)
        points[group][bucket].add(row)
        totals[group].add(row)
    return {
        "since": datetime.fromtimestamp(since, UTC).isoformat(),
        "until": datetime.fromtimestamp(until, UTC).isoformat(),
        "step": step,
        "by": by,
        "series": [
            {
                "group": group,
                "totals": totals[group].public(),
                "points": [
                    {"t": datetime.fromtimestamp(since + b * step, UTC).isoformat(), **p.public()}
                    for b, p in sorted(buckets.items())
                ],
            }
            for group, buckets in sorted(points.items())
        ],
    }

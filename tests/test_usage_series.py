"""Folding usage records into a time series (lowart.admin._series)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lowart.admin._series import fold_series

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC).timestamp()


def _row(offset, route="a", status="ok", latency=10.0, ttft=None, cost=None, key="k"):
    at = datetime.fromtimestamp(T0 + offset, UTC).replace(tzinfo=None)  # as SQLite gives it
    return (at, route, key, "http", "mock", status, 1, 2, 3, latency, ttft, cost)


def test_buckets_groups_and_nearest_rank_percentiles():
    rows = [
        _row(5, latency=10, ttft=1, cost=Decimal("0.001")),
        _row(15, latency=20, ttft=2, cost=Decimal("0.002")),
        _row(25, latency=30, status="error"),
        _row(65, latency=40),
        _row(70, route="b", latency=99),
        _row(-1),  # before the window
        _row(120),  # at its end (exclusive)
    ]
    folded = fold_series(rows, since=T0, until=T0 + 120, step=60, by="model")
    a, b = folded["series"]
    assert a["group"] == "a" and b["group"] == "b"
    assert a["totals"]["requests"] == 4 and a["totals"]["errors"] == 1
    assert a["totals"]["p50_latency_ms"] == 20 and a["totals"]["p95_latency_ms"] == 40
    assert a["totals"]["p50_ttft_ms"] == 1 and a["totals"]["p95_ttft_ms"] == 2
    assert a["totals"]["cost"] == "0.003" and a["totals"]["total_tokens"] == 12
    assert [p["requests"] for p in a["points"]] == [3, 1]
    assert a["points"][1]["t"] == "2026-11-01T12:01:00+00:00"
    assert b["points"][0]["p50_ttft_ms"] is None
    total = fold_series(rows, since=T0, until=T0 + 120, step=60, by="total")
    assert [s["group"] for s in total["series"]] == ["all"]
    assert total["series"][0]["totals"]["requests"] == 5

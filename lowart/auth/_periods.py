"""Quota periods: a token quota counts over all time, or per UTC day or month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = ["QUOTA_PERIODS", "QuotaWindow", "quota_window"]

QUOTA_PERIODS = ("total", "day", "month")


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    id: str
    """Names the window in counters ("total", "d2026-11-26", "m2026-11")."""
    start: date | None
    """First UTC day counted, None for all time."""
    seconds_left: float | None
    """Until the window resets (what Retry-After says), None if it never does."""


def quota_window(period: str, now: datetime | None = None) -> QuotaWindow:
    now = now or datetime.now(UTC)
    today = now.date()
    if period == "day":
        end = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
        return QuotaWindow(f"d{today.isoformat()}", today, (end - now).total_seconds())
    if period == "month":
        start = today.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        end = datetime.combine(following, datetime.min.time(), UTC)
        return QuotaWindow(f"m{start:%Y-%m}", start, (end - now).total_seconds())
    return QuotaWindow("total", None, None)

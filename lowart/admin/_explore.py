"""Usage queries for the dashboard and the admin API: filtered pages of records,
CSV export, and time series with percentiles, over any window.

Part of `Admin` (as `admin.explore`). Like the other usage queries, each first
writes the rows queued before it, so a request that finished is in the answer.
A caller who is not an admin passes its own key id, and sees only its rows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from lowart.admin._series import GROUPS, fold_series
from lowart.errors import InvalidRequest
from lowart.store import UsageFilter, UsageSearch

__all__ = ["UsageExplorer", "parse_instant"]

PAGE_MAX = 1000
CSV_MAX = 10_000
SERIES_ROWS_MAX = 200_000
SERIES_BUCKETS_MAX = 1000
_RELATIVE = re.compile(r"(\d{1,6})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CSV_COLUMNS = (
    "id",
    "created_at",
    "request_id",
    "key_name",
    "route",
    "vendor",
    "upstream_model",
    "interface",
    "status",
    "http_status",
    "error_code",
    "stream",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "latency_ms",
    "ttft_ms",
    "cost",
    "currency",
)


def parse_instant(value: str | None, param: str, now: datetime) -> datetime | None:
    """An ISO 8601 time (UTC when it names no zone), or a span back from now (`90m`, `7d`)."""
    if not value:
        return None
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        return now - timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(
            f"Invalid '{param}' {value!r}: use an ISO 8601 time or a span like 1h or 7d.",
            param=param,
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidRequest(f"'{name}' must be an integer.", param=name) from exc
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be from {low} to {high}.", param=name)
    return value


def _public_record(row: dict[str, Any]) -> dict[str, Any]:
    created = row["created_at"]
    row["created_at"] = (created if created.tzinfo else created.replace(tzinfo=UTC)).isoformat()
    row["extra"] = orjson.loads(row["extra"]) if row.get("extra") else None
    cost = row.get("cost")
    if isinstance(cost, Decimal):
        row["cost"] = str(cost.normalize())
    return row


class UsageExplorer:
    def __init__(self, search: UsageSearch, flush_usage: Callable[[], Awaitable[None]]) -> None:
        self._search = search
        self._flush_usage = flush_usage

    @staticmethod
    def _filter(query: Mapping[str, str], key_id: int | None, now: datetime) -> UsageFilter:
        """The filters a query string names; `key_id` (a non-admin caller's own) wins."""
        return UsageFilter(
            key_id=key_id,
            key_name=None if key_id is not None else (query.get("key") or None),
            route=query.get("model") or None,
            interface=query.get("interface") or None,
            status=query.get("status") or None,
            since=parse_instant(query.get("since"), "since", now),
            until=parse_instant(query.get("until"), "until", now),
        )

    async def records(self, query: Mapping[str, str], key_id: int | None = None) -> dict[str, Any]:
        """One page, newest first; `next_before` asks for the page after it."""
        where = self._filter(query, key_id, datetime.now(UTC))
        limit = _int(query, "limit", 100, 1, PAGE_MAX)
        before = _int(query, "before", 0, 0, 2**63 - 1) or None
        await self._flush_usage()
        rows = [_public_record(r) for r in await self._search.page(where, limit, before)]
        more = len(rows) == limit
        return {"data": rows, "next_before": rows[-1]["id"] if more and rows else None}

    async def csv(self, query: Mapping[str, str], key_id: int | None = None) -> str:
        """The matching records (the newest CSV_MAX) as CSV with a header row."""
        where = self._filter(query, key_id, datetime.now(UTC))
        await self._flush_usage()
        rows = await self._search.page(where, CSV_MAX)
        return await asyncio.to_thread(_to_csv, [_public_record(r) for r in rows])

    async def series(self, query: Mapping[str, str], key_id: int | None = None) -> dict[str, Any]:
        """Buckets over [since, until) (default: the last hour), split by `by`."""
        now = datetime.now(UTC)
        by = query.get("by") or "total"
        if by not in GROUPS:
            raise InvalidRequest(f"'by' must be one of {', '.join(GROUPS)}.", param="by")
        where = self._filter(query, key_id, now)
        since = where.since or now - timedelta(hours=1)
        until = where.until or now
        if until <= since:
            raise InvalidRequest("'until' must be later than 'since'.", param="until")
        span = (until - since).total_seconds()
        step = _int(query, "step", max(60, int(span // 60)), 1, 366 * 86400)
        if span / step > SERIES_BUCKETS_MAX:
            raise InvalidRequest(
                f"At most {SERIES_BUCKETS_MAX} buckets: make 'step' longer.", param="step"
            )
        where.since, where.until = since, until
        await self._flush_usage()
        rows = await self._search.window(where, SERIES_ROWS_MAX)
        folded = await asyncio.to_thread(
            fold_series, rows, since=since.timestamp(), until=until.timestamp(), step=step, by=by
        )
        folded["truncated"] = len(rows) == SERIES_ROWS_MAX
        return folded


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()

"""Usage rows: raw records, daily rollups and the per-key token total, written in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from lowart.store._money import to_units
from lowart.store._report import UsageFilter, usage_report
from lowart.store._rows import as_dict
from lowart.store._tables import api_keys, usage_daily, usage_records
from lowart.store._usage_search import UsageSearch
from lowart.types import UsageRecord

__all__ = ["UsageStore", "is_data_error"]

# SQLSTATE classes that say "the database, not the data": connection exceptions,
# transaction rollbacks (serialization, deadlock), insufficient resources, operator
# intervention (shutdown), system errors. A batch failing with one of these is retried.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def is_data_error(exc: BaseException) -> bool:
    """Whether a failed usage write was rejected for its rows (a value the columns
    cannot hold) rather than for the database (down, restarting, out of connections).

    Rows are at fault for SQLAlchemy's DataError, IntegrityError and other statement
    errors, and for the values a driver refuses to bind (SQLite raises OverflowError
    for an integer past 64 bits). Connection errors (OperationalError, InterfaceError,
    OSError, pool timeouts, an invalidated connection) and anything unknown are not:
    those batches are retried whole, so nothing is lost while the database is away.
    """
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
        return False
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return False
        state = getattr(exc.orig, "sqlstate", None)
        return not (isinstance(state, str) and state[:2] in _TRANSIENT_SQLSTATE_CLASSES)
    if isinstance(exc, OSError | sa_exc.TimeoutError):
        return False
    return isinstance(exc, sa_exc.StatementError | ValueError | TypeError | ArithmeticError)


_GROUPS = {
    "model": (usage_daily.c.route,),
    "key": (usage_daily.c.key_name,),
    "day": (usage_daily.c.day,),
    "interface": (usage_daily.c.interface,),
}


def _raw_row(record: UsageRecord) -> dict[str, Any]:
    return {
        "created_at": datetime.fromtimestamp(record.created_at, UTC),
        "request_id": record.request_id,
        "key_id": record.key_id,
        "key_name": record.key_name,
        "route": record.route,
        "vendor": record.vendor,
        "upstream_model": record.upstream_model,
        "interface": record.interface,
        "status": record.status,
        "http_status": record.http_status,
        "error_code": record.error_code,
        "stream": record.stream,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "total_tokens": record.total_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_creation_tokens": record.cache_creation_tokens,
        "usage_source": record.usage_source,
        "latency_ms": record.latency_ms,
        "ttft_ms": record.ttft_ms,
        "extra": orjson.dumps(record.extra).decode() if record.extra else None,
        "cost": record.cost,
        "currency": record.currency,
    }


_RAW_COLUMNS = tuple(column.name for column in usage_records.columns if column.name != "id")
# The driver insert lists the converted columns first; the rest are record attributes
# of the same name, read in one C call (a dict per row and then a tuple was ~8 µs a row).
_CONVERTED = ("created_at", "extra", "cost")
_COPIED = tuple(name for name in _RAW_COLUMNS if name not in _CONVERTED)
_DRIVER_COLUMNS = (*_CONVERTED, *_COPIED)
_copied_values = attrgetter(*_COPIED)
_PLACEHOLDERS = {
    "qmark": lambda count: ", ".join("?" * count),
    "numeric_dollar": lambda count: ", ".join(f"${i}" for i in range(1, count + 1)),
}


def _driver_insert(paramstyle: str) -> str | None:
    """Plain SQL for the raw-row insert, in the driver's own parameter style.

    Usage rows are the one write on the request rate; going through the driver's
    executemany skips SQLAlchemy's per-row parameter processing (about 50 µs a
    row, on the event loop thread). Other drivers keep the Core path.
    """
    placeholders = _PLACEHOLDERS.get(paramstyle)
    if placeholders is None:
        return None
    columns = ", ".join(_DRIVER_COLUMNS)
    return f"INSERT INTO usage_records ({columns}) VALUES ({placeholders(len(_DRIVER_COLUMNS))})"


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime type stores and parses back
    ("%Y-%m-%d %H:%M:%S.%f"; isoformat writes the same, about twice as fast)."""
    return value.isoformat(" ", "microseconds")[:26]


_SUMMED = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "latency_ms_sum",
    "cost",
)

# Built once: a statement rebuilt per batch is compiled per batch (milliseconds each).
_ADD_USED_TOKENS = (
    sa.update(api_keys)
    .where(api_keys.c.id == sa.bindparam("target_key"))
    .values(used_tokens=api_keys.c.used_tokens + sa.bindparam("tokens"))
)


def _rollup_upsert(insert: Any) -> Any:
    """One upsert statement for every rollup row of a batch (executemany)."""
    stmt = insert(usage_daily)
    return stmt.on_conflict_do_update(
        index_elements=["day", "key_id", "route", "interface"],
        set_={name: usage_daily.c[name] + stmt.excluded[name] for name in _SUMMED},
    )


def _rollups(records: Sequence[UsageRecord]) -> list[dict[str, Any]]:
    """Fold a batch into one row per (day, key, route, interface) before touching the DB."""
    sums: dict[tuple[date, int, str, str], dict[str, Any]] = {}
    for r in records:
        day = datetime.fromtimestamp(r.created_at, UTC).date()
        group = (day, r.key_id or 0, r.route, r.interface)
        row = sums.get(group)
        if row is None:
            row = sums[group] = {
                "day": day,
                "key_id": r.key_id or 0,
                "route": r.route,
                "interface": r.interface,
                "key_name": r.key_name,
                "requests": 0,
                "errors": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "total_tokens": 0,
                "latency_ms_sum": 0.0,
                "cost": Decimal(0),
            }
        row["requests"] += 1
        row["errors"] += r.status != "ok"
        row["prompt_tokens"] += r.prompt_tokens
        row["completion_tokens"] += r.completion_tokens
        row["total_tokens"] += r.total_tokens
        row["latency_ms_sum"] += r.latency_ms
        if r.cost is not None:
            row["cost"] += r.cost
    return list(sums.values())


class UsageStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._driver_insert = _driver_insert(engine.dialect.paramstyle)
        self._rollup_upsert = _rollup_upsert(self._insert)
        self._time_param = _sqlite_time if dialect == "sqlite" else None
        self._money_units = dialect == "sqlite"

    def _driver_params(self, record: UsageRecord) -> tuple[Any, ...]:
        """One row in `_DRIVER_COLUMNS` order, the same values `_raw_row` gives."""
        created: Any = datetime.fromtimestamp(record.created_at, UTC)
        if self._time_param is not None:
            created = self._time_param(created)
        extra = orjson.dumps(record.extra).decode() if record.extra else None
        cost: Any = record.cost
        if cost is not None and self._money_units:
            cost = to_units(cost)  # SQLite keeps money as integer 10^-12 units (Money)
        return (created, extra, cost, *_copied_values(record))

    async def write_batch(self, records: Sequence[UsageRecord]) -> None:
        """Raw rows, rollups and key totals in one transaction: all or nothing."""
        if not records:
            return
        async with self._engine.begin() as conn:
            if self._driver_insert is not None:
                params = [self._driver_params(r) for r in records]
                await conn.exec_driver_sql(self._driver_insert, params)
            else:
                await conn.execute(sa.insert(usage_records), [_raw_row(r) for r in records])
            await self._upsert_rollups(conn, _rollups(records))
            await self._add_used_tokens(conn, records)

    async def _upsert_rollups(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        await conn.execute(self._rollup_upsert, rows)

    async def _add_used_tokens(self, conn: AsyncConnection, records: Sequence[UsageRecord]) -> None:
        per_key: dict[int, int] = defaultdict(int)
        for r in records:
            if r.key_id is not None and r.total_tokens:
                per_key[r.key_id] += r.total_tokens
        if per_key:
            params = [{"target_key": key, "tokens": tokens} for key, tokens in per_key.items()]
            await conn.execute(_ADD_USED_TOKENS, params)

    async def summary(
        self, by: str = "model", since: date | None = None, key_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Totals grouped by model, key, day or interface, read from the daily rollups."""
        if by not in _GROUPS:
            raise ValueError(f"cannot group usage by {by!r}; use one of {', '.join(_GROUPS)}")
        group = _GROUPS[by]
        query = (
            sa.select(
                *group,
                sa.func.sum(usage_daily.c.requests).label("requests"),
                sa.func.sum(usage_daily.c.errors).label("errors"),
                sa.func.sum(usage_daily.c.prompt_tokens).label("prompt_tokens"),
                sa.func.sum(usage_daily.c.completion_tokens).label("completion_tokens"),
                sa.func.sum(usage_daily.c.total_tokens).label("total_tokens"),
                sa.func.sum(usage_daily.c.latency_ms_sum).label("latency_ms_sum"),
                sa.func.sum(usage_daily.c.cost).label("cost"),
            )
            .group_by(*group)
            .order_by(*group)
        )
        if since is not None:
            query = query.where(usage_daily.c.day >= since)
        if key_id is not None:
            query = query.where(usage_daily.c.key_id == key_id)
        async with self._engine.connect() as conn:
            rows = [as_dict(row) for row in await conn.execute(query)]
        for row in rows:
            requests = int(row.pop("requests") or 0)
            latency_sum = float(row.pop("latency_ms_sum") or 0.0)
            row["requests"] = requests
            row["avg_latency_ms"] = round(latency_sum / requests, 2) if requests else 0.0
            for name in ("errors", "prompt_tokens", "completion_tokens", "total_tokens"):
                row[name] = int(row[name] or 0)
            if "day" in row and isinstance(row["day"], date):
                row["day"] = row["day"].isoformat()
        return rows

    def search(self) -> UsageSearch:
        """Filtered, paged and windowed reads of the raw records (the dashboard's)."""
        return UsageSearch(self._engine)

    async def used_tokens(self, key_id: int, since: date | None = None) -> int:
        """Tokens a key has used in total, or since a UTC day (a quota's starting point)."""
        if since is None:
            query = sa.select(api_keys.c.used_tokens).where(api_keys.c.id == key_id)
        else:
            query = sa.select(sa.func.sum(usage_daily.c.total_tokens)).where(
                usage_daily.c.key_id == key_id, usage_daily.c.day >= since
            )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def spent(self, key_id: int, since: date | None = None) -> Decimal:
        """What a key has spent in total, or since a UTC day (a budget's starting point)."""
        query = sa.select(sa.func.sum(usage_daily.c.cost)).where(usage_daily.c.key_id == key_id)
        if since is not None:
            query = query.where(usage_daily.c.day >= since)
        async with self._engine.connect() as conn:
            total = (await conn.execute(query)).scalar()
        return Decimal(total or 0)

    async def spent_by_key(self, since: date | None = None) -> dict[int, Decimal]:
        """What each key spent in total, or since a UTC day."""
        query = sa.select(usage_daily.c.key_id, sa.func.sum(usage_daily.c.cost)).group_by(
            usage_daily.c.key_id
        )
        if since is not None:
            query = query.where(usage_daily.c.day >= since)
        async with self._engine.connect() as conn:
            return {key: Decimal(total or 0) for key, total in await conn.execute(query)}

    async def report(
        self, by: str, where: UsageFilter | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Groups and totals with error rate, cost and percentiles (see `_report`)."""
        return await usage_report(self._engine, by, where or UsageFilter())

    async def records(
        self,
        limit: int = 100,
        key_id: int | None = None,
        *,
        where: UsageFilter | None = None,
        after_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """The newest raw records matching `where`, newest first; with `after_id`, the
        oldest ones after that record, oldest first (what a follower reads next)."""
        query = sa.select(usage_records).limit(limit)
        clauses = (where or UsageFilter(key_id=key_id)).clauses()
        if key_id is not None and where is not None:
            clauses.append(usage_records.c.key_id == key_id)
        if after_id is not None:
            clauses.append(usage_records.c.id > after_id)
            query = query.order_by(usage_records.c.id)
        else:
            query = query.order_by(usage_records.c.id.desc())
        async with self._engine.connect() as conn:
            return [as_dict(row) for row in await conn.execute(query.where(*clauses))]

    async def prune(self, before: datetime) -> int:
        """Delete raw rows older than `before`; the daily rollups keep the totals."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.delete(usage_records).where(usage_records.c.created_at < before)
            )
        return result.rowcount

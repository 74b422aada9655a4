"""Choosing the limits backend at start: Redis when configured, else in-process."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from lowart.auth._limits import InProcessLimiter, Limiter, QuotaBaseline
from lowart.auth._redis_limiter import RedisLimiter

__all__ = ["connect_redis", "open_limiter"]

log = logging.getLogger("lowart.limits")


def connect_redis(url: str, max_connections: int = 64) -> aioredis.Redis:
    """A client whose pool waits for a free connection under a burst instead of failing
    (the default pool raises "Too many connections" past its size)."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,
        socket_connect_timeout=5,
        socket_timeout=5,
    )
    return aioredis.Redis.from_pool(pool)


async def open_limiter(
    redis_url: str | None,
    *,
    prefix: str,
    baseline: QuotaBaseline,
    stack: AsyncExitStack,
) -> Limiter:
    """The limiter for this process; Redis is checked now so a typo fails the start,
    not the first limited request."""
    if not redis_url:
        return InProcessLimiter(baseline)
    client = connect_redis(redis_url)
    stack.push_async_callback(client.aclose)
    try:
        await client.ping()
    except RedisError as exc:
        raise RuntimeError(f"Redis at LOWART_REDIS_URL is unreachable: {exc}") from exc
    limiter = RedisLimiter(client, prefix=prefix, baseline=baseline)
    stack.push_async_callback(limiter.close)
    log.info("per-key limits are shared through Redis (prefix %r)", prefix)
    return limiter

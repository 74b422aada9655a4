"""Choosing the limits backend at start: Redis when configured, else in-process."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from lowart.auth._limits import InProcessLimiter, Limiter, QuotaBaseline
from lowart.auth._redis_limiter import RedisLimiter

__all__ = ["open_limiter"]

log = logging.getLogger("lowart.limits")


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
    client = aioredis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5)
    stack.push_async_callback(client.aclose)
    try:
        await client.ping()
    except RedisError as exc:
        raise RuntimeError(f"Redis at LOWART_REDIS_URL is unreachable: {exc}") from exc
    limiter = RedisLimiter(client, prefix=prefix, baseline=baseline)
    stack.push_async_callback(limiter.close)
    log.info("per-key limits are shared through Redis (prefix %r)", prefix)
    return limiter

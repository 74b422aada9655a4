"""Choosing the limits backend at start: Redis when configured, else in-process."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from lowart.auth._budget import SpendBaseline
from lowart.auth._limits import InProcessLimiter, Limiter, QuotaBaseline

__all__ = ["open_limiter"]

log = logging.getLogger("lowart.limits")


async def open_limiter(
    redis_url: str | None,
    *,
    prefix: str,
    baseline: QuotaBaseline,
    spent: SpendBaseline | None = None,
    stack: AsyncExitStack,
) -> Limiter:
    """The limiter for this process; Redis is checked now so a typo fails the start,
    not the first limited request."""
    if not redis_url:
        return InProcessLimiter(baseline, spent)
    # Imported here: the Redis client costs memory a single-process gateway never needs.
    from redis.exceptions import RedisError

    from lowart.auth._redis_limiter import RedisLimiter, connect_redis

    client = connect_redis(redis_url)
    stack.push_async_callback(client.aclose)
    try:
        await client.ping()
    except RedisError as exc:
        raise RuntimeError(f"Redis at LOWART_REDIS_URL is unreachable: {exc}") from exc
    limiter = RedisLimiter(client, prefix=prefix, baseline=baseline, spent=spent)
    stack.push_async_callback(limiter.close)
    log.info("per-key limits are shared through Redis (prefix %r)", prefix)
    return limiter

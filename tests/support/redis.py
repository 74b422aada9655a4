"""This machine's Redis for tests: a unique key prefix per test, cleaned afterwards."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

REDIS_URL = os.environ.get("LOWART_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class RedisService:
    url: str
    prefix: str


async def open_test_redis() -> RedisService:
    """Check Redis answers and pick a prefix no other test run uses."""
    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return RedisService(REDIS_URL, f"lowart-test-{uuid.uuid4().hex[:12]}")


async def drop_prefix(service: RedisService) -> None:
    client = aioredis.from_url(service.url)
    try:
        async for key in client.scan_iter(match=f"{service.prefix}:*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()

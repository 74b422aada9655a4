"""Turning a presented key into a Principal, from an in-memory cache.

The database is read once per distinct key; the caches are cleared whenever the
configuration version changes (admin API, CLI or another process), which is
how a revocation takes effect without a restart.

Keys that authenticated are also remembered as presented, so a known key costs
one dict lookup instead of a SHA-256 per request. Only valid keys go there
(their number is the number of keys issued), so random keys cannot grow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError

from lowart.auth._key_material import hash_key
from lowart.errors import AuthenticationFailed, ServiceUnavailable
from lowart.store import KeyStore
from lowart.types import Principal

__all__ = ["Authenticator", "principal_from_row"]

_MAX_CACHED = 50_000


def principal_from_row(row: Mapping[str, Any]) -> Principal:
    allowed = orjson.loads(row["allowed_models"]) if row.get("allowed_models") else None
    tools = orjson.loads(row["allowed_tools"]) if row.get("allowed_tools") else None
    return Principal(
        key_id=row["id"],
        name=row["name"],
        is_admin=bool(row["is_admin"]),
        rpm=row["rpm"],
        tpm=row["tpm"],
        quota_tokens=row["quota_tokens"],
        allowed_models=frozenset(allowed) if allowed is not None else None,
        max_concurrency=row.get("max_concurrency"),
        quota_period=row.get("quota_period") or "total",
        budget=row.get("budget"),
        budget_period=row.get("budget_period") or "total",
        allowed_tools=tuple(tools) if tools is not None else None,
    )


class Authenticator:
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._cache: dict[str, Principal | None] = {}  # by key hash, misses included
        self._known: dict[str, Principal] = {}  # by the key as presented, hits only
        self._generation = 0

    def invalidate(self) -> None:
        self._generation += 1  # a lookup already in flight must not refill the caches
        self._cache.clear()
        self._known.clear()

    async def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthenticationFailed(
                "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
            )
        principal = self._known.get(presented)
        if principal is not None:
            return principal
        generation = self._generation
        key_hash = hash_key(presented)
        try:
            principal = self._cache[key_hash]
        except KeyError:
            principal = await self._load(key_hash)
        if principal is None:
            raise AuthenticationFailed("Invalid or revoked API key.")
        if generation == self._generation:
            if len(self._known) >= _MAX_CACHED:
                self._known.clear()
            self._known[presented] = principal
        return principal

    async def _load(self, key_hash: str) -> Principal | None:
        generation = self._generation
        try:
            row = await self._keys.find_active_by_hash(key_hash)
        except (SQLAlchemyError, OSError) as exc:  # not cached: the next request asks again
            raise ServiceUnavailable(
                "The gateway cannot check API keys right now (its database is unavailable);"
                " try again shortly."
            ) from exc
        principal = principal_from_row(row) if row else None
        if generation != self._generation:
            return principal  # read before an invalidation: good for this request only
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()  # bounded: a flood of random keys cannot grow memory
        self._cache[key_hash] = principal
        return principal

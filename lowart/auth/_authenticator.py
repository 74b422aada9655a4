"""Turning a presented key into a Principal, from an in-memory cache.

The database is read once per distinct key; the cache is cleared whenever the
configuration version changes (admin API, CLI or another process), which is
how a revocation takes effect without a restart.
"""

from __future__ import annotations

import orjson

from lowart.auth._keys import hash_key
from lowart.errors import AuthenticationFailed
from lowart.store import KeyStore
from lowart.types import Principal

__all__ = ["Authenticator", "principal_from_row"]

_MAX_CACHED = 50_000


def principal_from_row(row: dict) -> Principal:
    allowed = orjson.loads(row["allowed_models"]) if row.get("allowed_models") else None
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
    )


class Authenticator:
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._cache: dict[str, Principal | None] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    async def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthenticationFailed(
                "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
            )
        key_hash = hash_key(presented)
        try:
            principal = self._cache[key_hash]
        except KeyError:
            principal = await self._load(key_hash)
        if principal is None:
            raise AuthenticationFailed("Invalid or revoked API key.")
        return principal

    async def _load(self, key_hash: str) -> Principal | None:
        row = await self._keys.find_active_by_hash(key_hash)
        principal = principal_from_row(row) if row else None
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()  # bounded: a flood of random keys cannot grow memory
        self._cache[key_hash] = principal
        return principal

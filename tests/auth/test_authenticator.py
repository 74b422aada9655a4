"""The key cache: fast for known keys, and a revocation is seen on the next request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lowart.auth import Authenticator
from lowart.auth._key_material import hash_key
from lowart.errors import AuthenticationFailed


class FakeKeys:
    """A key store with one key; counts lookups and can hold one until released."""

    def __init__(self, key: str) -> None:
        self.hash = hash_key(key)
        self.revoked = False
        self.lookups = 0
        self.gate: asyncio.Event | None = None
        self.reading = asyncio.Event()

    async def find_active_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        self.lookups += 1
        self.reading.set()
        active = key_hash == self.hash and not self.revoked
        if self.gate is not None:
            await self.gate.wait()
        if not active:
            return None
        return {"id": 1, "name": "k", "is_admin": False, "rpm": None, "tpm": None,
                "quota_tokens": None}  # fmt: skip


async def test_a_known_key_is_answered_from_memory_until_invalidated():
    keys = FakeKeys("la-good")
    auth = Authenticator(keys)  # type: ignore[arg-type]
    first = await auth.authenticate("la-good")
    assert await auth.authenticate("la-good") is first
    assert keys.lookups == 1
    keys.revoked = True
    auth.invalidate()  # what a revocation through the admin API or the CLI triggers
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate("la-good")
    assert keys.lookups == 2


async def test_unknown_keys_are_refused_every_time():
    keys = FakeKeys("la-good")
    auth = Authenticator(keys)  # type: ignore[arg-type]
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await auth.authenticate("la-bad")
    assert keys.lookups == 1  # the miss is remembered by hash, never as a known key


async def test_a_lookup_overtaken_by_a_revocation_is_not_remembered():
    keys = FakeKeys("la-good")
    auth = Authenticator(keys)  # type: ignore[arg-type]
    keys.gate = asyncio.Event()
    in_flight = asyncio.create_task(auth.authenticate("la-good"))
    await asyncio.wait_for(keys.reading.wait(), 5)
    keys.revoked = True  # revoked while the row (still active) was being read
    auth.invalidate()
    keys.gate.set()
    await in_flight  # the request that was already in flight goes through
    keys.gate = None
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate("la-good")

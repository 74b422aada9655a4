"""Per-key limits kept in Redis, shared by every gateway process that uses it.

Admit and settle are Lua scripts, so each is one atomic step on the Redis
side: no read-modify-write races between processes. Windows use Redis's own
clock (TIME), so the processes' clocks do not matter. Concurrency slots are
leases: a process that dies without settling frees its slots after
`lease_seconds`. Keys without limits never touch Redis.

If Redis cannot be reached, limited keys are refused (503) rather than let
through unlimited: a limit that silently stops holding is worse than an error.
A settle that cannot reach Redis is retried with backoff until it lands (or
the lease would have freed the slot anyway), so a blip of a second or two
frees a key's slots seconds after Redis is back, not when the leases expire.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal
from importlib import resources

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from lowart.auth._budget import (
    SpendBaseline,
    budget_exceeded,
    budget_nanos,
    cost_estimate,
    nanos,
)
from lowart.auth._limits import (
    Admission,
    QuotaBaseline,
    is_limited,
    needs_estimate,
    quota_exceeded,
    too_many_concurrent,
    too_many_requests,
    too_many_tokens,
)
from lowart.auth._periods import QuotaWindow, quota_window
from lowart.errors import LimitsUnavailable
from lowart.types import Price, Principal

__all__ = ["RedisLimiter", "connect_redis"]

log = logging.getLogger("lowart.limits")

_SETTLE_FIRST_WAIT = 0.1  # seconds before the first retry of a settle Redis refused
_SETTLE_MAX_WAIT = 5.0  # the longest wait between two retries
_DRAIN_SECONDS = 5.0  # how long shutdown waits for settles still retrying

_ADMITTED, _RPM, _TPM, _CONCURRENCY, _QUOTA, _NEED_BASELINE, _BUDGET, _NEED_SPENT = range(8)
_Answer = tuple[int, int, int, int]  # code, retry after ms, value, cost reserved


def _script(name: str) -> str:
    return resources.files("lowart.auth").joinpath("lua", name).read_text()


class _RedisAdmission(Admission):
    __slots__ = (
        "_args",
        "_budget_window",
        "_keys",
        "_limiter",
        "_principal",
        "_reserve_keys",
        "_reserving",
        "_settled",
        "_window",
    )

    def __init__(
        self,
        limiter: RedisLimiter,
        keys: list[str],
        args: list[str],
        principal: Principal,
        reserve_keys: list[str],
        window: QuotaWindow,
        budget_window: QuotaWindow,
    ) -> None:
        self._limiter = limiter
        self._keys = keys
        self._args = args
        self._principal = principal
        self._reserve_keys = reserve_keys
        self._window = window
        self._budget_window = budget_window
        self._reserving: asyncio.Task[_Answer] | None = None
        self._settled = False

    async def reserve(
        self,
        prompt: int,
        completion: int | None,
        price: Price | None = None,
        cost: Decimal | None = None,
    ) -> None:
        principal = self._principal
        if self._settled or not needs_estimate(principal):
            return
        args: list[str | int] = [
            self._args[0],
            prompt,
            -1 if completion is None else completion,
            principal.tpm or 0,
            principal.quota_tokens or 0,
            budget_nanos(principal) or 0,
            nanos(cost) if cost is not None else cost_estimate(price, prompt, completion or 0),
            "1" if completion is None and price is not None and cost is None else "0",
        ]
        task = asyncio.ensure_future(self._limiter._run_reserve(self._reserve_keys, args))
        task.add_done_callback(self._count_reserved)  # also when our caller is cancelled
        self._reserving = task
        code, retry_ms, value, _ = await asyncio.shield(task)
        if code == _QUOTA:
            raise quota_exceeded(principal, self._window, value)
        if code == _BUDGET:
            raise budget_exceeded(principal, self._budget_window, value)
        if code == _TPM:
            raise too_many_tokens(principal, max(0.0, retry_ms / 1000))

    def _count_reserved(self, done: asyncio.Task[_Answer]) -> None:
        """The estimate a settle corrects includes what Redis reserved."""
        if done.cancelled() or done.exception() is not None:
            return
        code, _, value, cost = done.result()
        if code == _ADMITTED:
            self._args[1] = str(int(self._args[1]) + value)
            self._args[7] = str(int(self._args[7]) + cost)

    def settle(self, actual_tokens: int, cost: Decimal | None = None) -> None:
        """Queued on the loop: the request path never waits on Redis to finish."""
        if self._settled:
            return
        self._settled = True
        self._limiter._settle_later(
            self._keys, self._args, actual_tokens, nanos(cost), self._reserving
        )


class RedisLimiter:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "lowart",
        baseline: QuotaBaseline | None = None,
        spent: SpendBaseline | None = None,
        lease_seconds: float = 900.0,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._baseline = baseline
        self._spent = spent
        self._lease_ms = int(lease_seconds * 1000)
        self._admit = client.register_script(_script("admit.lua"))
        self._settle = client.register_script(_script("settle.lua"))
        self._reserve = client.register_script(_script("reserve.lua"))
        self._pending: set[asyncio.Task[None]] = set()

    needs_estimate = staticmethod(needs_estimate)

    def _keys(
        self, principal: Principal, window: QuotaWindow, budget_window: QuotaWindow
    ) -> list[str]:
        # One hash tag per API key: all its counters live in one Redis Cluster slot.
        base = f"{self._prefix}:{{k{principal.key_id}}}"
        return [
            f"{base}:rpm",
            f"{base}:tpm",
            f"{base}:tpm:entries",
            f"{base}:tpm:total",
            f"{base}:concurrency",
            f"{base}:quota:{window.id}",
            f"{base}:budget:{budget_window.id}",
        ]

    async def acquire(self, principal: Principal, estimate: int) -> Admission:
        if not is_limited(principal):
            return Admission()
        window = quota_window(principal.quota_period)
        budget_window = quota_window(principal.budget_period)
        keys = self._keys(principal, window, budget_window)
        member = uuid.uuid4().hex
        ttl = int(window.seconds_left + 3600) if window.seconds_left is not None else 0
        budget_ttl = (
            int(budget_window.seconds_left + 3600) if budget_window.seconds_left is not None else 0
        )
        args: list[str | int] = [
            member,
            principal.rpm or 0,
            principal.tpm or 0,
            principal.max_concurrency or 0,
            principal.quota_tokens or 0,
            estimate,
            -1,
            ttl,
            self._lease_ms,
            budget_nanos(principal) or 0,
            -1,
            budget_ttl,
        ]
        settle_keys = [keys[2], keys[3], keys[4], keys[5], keys[6]]
        flags = [
            "1" if principal.tpm else "0",
            "1" if principal.max_concurrency else "0",
            "1" if principal.quota_tokens else "0",
            "1" if principal.budget is not None else "0",
        ]
        admission = _RedisAdmission(
            self,
            settle_keys,
            [member, str(estimate), "0", *flags, "0"],
            principal,
            [keys[1], keys[2], keys[3], keys[5], keys[6]],
            window,
            budget_window,
        )
        code, retry_ms, used, _ = await self._admit_once(keys, args, admission)
        for _attempt in range(2):  # each counter missing in Redis is loaded once
            if code == _NEED_BASELINE:
                args[6] = (
                    await self._baseline(principal.key_id, window.start) if self._baseline else 0
                )
            elif code == _NEED_SPENT:
                spent = self._spent
                args[10] = nanos(await spent(principal.key_id, budget_window.start)) if spent else 0
            else:
                break
            code, retry_ms, used, _ = await self._admit_once(keys, args, admission)
        retry = max(0.0, retry_ms / 1000)
        if code == _QUOTA:
            raise quota_exceeded(principal, window, used)
        if code == _BUDGET:
            raise budget_exceeded(principal, budget_window, used)
        if code == _RPM:
            raise too_many_requests(principal, retry)
        if code == _TPM:
            raise too_many_tokens(principal, retry)
        if code == _CONCURRENCY:
            raise too_many_concurrent(principal)
        return admission

    async def _admit_once(
        self, keys: list[str], args: list[str | int], admission: _RedisAdmission
    ) -> _Answer:
        """Run the admit script; if our caller is cancelled while Redis admits the request,
        settle it at zero once the answer arrives, so no slot or reservation leaks."""
        task = asyncio.ensure_future(self._run_admit(keys, args))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:

            def release_orphan(done: asyncio.Future[_Answer]) -> None:
                if not done.cancelled() and done.exception() is None:
                    if done.result()[0] == _ADMITTED:
                        admission.settle(0)

            task.add_done_callback(release_orphan)
            raise

    async def _run_admit(self, keys: list[str], args: list[str | int]) -> _Answer:
        return await _checked(self._admit, keys, args, "limit check")

    async def _run_reserve(self, keys: list[str], args: list[str | int]) -> _Answer:
        return await _checked(self._reserve, keys, args, "token reservation")

    def _settle_later(
        self,
        keys: list[str],
        args: list[str],
        actual_tokens: int,
        actual_cost: int,
        reserving: asyncio.Task[_Answer] | None,
    ) -> None:
        async def settle() -> None:
            if reserving is not None:  # its reservation is part of what the settle corrects
                await asyncio.gather(reserving, return_exceptions=True)
            settled = list(args)
            settled[2] = str(int(actual_tokens))
            settled[7] = str(actual_cost - int(args[7]))  # in Python: exact integers
            await self._run_settle(keys, settled)

        task = asyncio.get_running_loop().create_task(settle())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run_settle(self, keys: list[str], args: list[str]) -> None:
        """Settle, retrying while Redis is unreachable: until it lands, the request keeps
        its concurrency slot and its token reservation. Past the lease there is no
        point (Redis frees the slot itself), so it gives up then, with one log line."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self._lease_ms / 1000
        wait = _SETTLE_FIRST_WAIT
        failures = 0
        while True:
            try:
                await self._settle(keys=keys, args=args)
            except RedisError as exc:
                failures += 1
                if failures == 1:
                    log.warning("settling a request's limits in Redis failed, retrying: %s", exc)
                if loop.time() + wait > give_up_at:
                    log.error("settling a request's limits in Redis failed for good: %s", exc)
                    return
                await asyncio.sleep(wait)
                wait = min(wait * 2, _SETTLE_MAX_WAIT)
            else:
                if failures:
                    log.info("settled a request's limits in Redis after %d retries", failures)
                return

    async def drain(self) -> None:
        """Wait for queued settles (tests, and shutdown before closing the client)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: settles still retrying after a while are abandoned (their leases
        expire in Redis), so a Redis outage cannot hold the process."""
        try:
            async with asyncio.timeout(_DRAIN_SECONDS):
                await self.drain()
        except TimeoutError:
            pending = list(self._pending)
            log.warning("%d settles could not reach Redis before shutdown", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


async def _checked(
    script: AsyncScript, keys: list[str], args: list[str | int], what: str
) -> _Answer:
    """Run a limits script; Redis unreachable refuses the request (503), never lets it
    through unlimited."""
    try:
        code, retry_ms, value, *cost = await script(keys=keys, args=args)
    except RedisError as exc:
        log.error("Redis %s failed: %s", what, exc)
        raise LimitsUnavailable(
            "Rate limits cannot be checked right now; try again shortly.", retry_after=1.0
        ) from exc
    return int(code), int(retry_ms), int(value), int(cost[0]) if cost else 0


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

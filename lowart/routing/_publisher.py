"""Publishing breaker transitions to the database, off the request path."""

from __future__ import annotations

import asyncio
import logging

from lowart.routing._breaker import BreakerSnapshot
from lowart.store import HealthStore

__all__ = ["HealthPublisher"]

log = logging.getLogger("lowart.routing")


class HealthPublisher:
    """Each transition becomes one small write in a background task; close waits for them."""

    def __init__(self, store: HealthStore) -> None:
        self._store = store
        self._pending: set[asyncio.Task[None]] = set()

    def publish(self, model_id: int, snapshot: BreakerSnapshot) -> None:
        log.warning(
            "deployment %d circuit is now %s (%d failures in %d calls)",
            model_id,
            snapshot.state,
            snapshot.failures,
            snapshot.calls,
        )
        task = asyncio.get_running_loop().create_task(self._write(model_id, snapshot))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, model_id: int, snapshot: BreakerSnapshot) -> None:
        try:
            await self._store.publish(
                model_id, snapshot.state, snapshot.failures, snapshot.calls, snapshot.open_until
            )
        except Exception:
            log.exception("publishing the circuit state of deployment %d failed", model_id)

    async def close(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

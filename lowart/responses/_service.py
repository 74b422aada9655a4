"""Responses kept for their key: stored, read, deleted, and run in the background.

The Gateway hands this service to the calls that need it; it never formats a
Response itself (the frontend builds them) and never routes a call (a
background run is a coroutine the caller made, which calls the Gateway like any
request). What it owns is what outlives one HTTP request: the rows, and the
background tasks, which it cancels on cancel and at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from lowart.errors import InvalidRequest, NotFound
from lowart.store import ResponseStore, StoredResponse
from lowart.types import Principal

__all__ = ["MAX_STORED_BYTES", "ResponseService"]

log = logging.getLogger("lowart.responses")

MAX_STORED_BYTES = 64 << 20
"""Largest conversation (input items) one stored response may hold."""

_UNFINISHED = ("queued", "in_progress")


class ResponseService:
    def __init__(self, store: ResponseStore) -> None:
        self._store = store
        self._running: dict[str, tuple[int, asyncio.Task[None]]] = {}

    async def save(
        self, principal: Principal, response: dict[str, Any], items: list[dict[str, Any]]
    ) -> None:
        if len(orjson.dumps(items)) > MAX_STORED_BYTES:
            raise InvalidRequest(
                f"The conversation is larger than {MAX_STORED_BYTES >> 20} MiB and cannot "
                "be stored; send it without 'store' or start a new one.",
                param="input",
            )
        await self._store.save(principal.key_id, response, items)

    async def get(
        self, principal: Principal, response_id: str, param: str | None = None
    ) -> StoredResponse:
        """This key's response (another key's is not found)."""
        found = await self._store.get(principal.key_id, response_id[:64])
        if found is None:
            raise NotFound(f"Response with id '{response_id[:64]}' not found.", param=param)
        return found

    async def delete(self, principal: Principal, response_id: str) -> None:
        await self.cancel_task(principal, response_id)
        if not await self._store.delete(principal.key_id, response_id[:64]):
            raise NotFound(f"Response with id '{response_id[:64]}' not found.")

    def start(
        self, principal: Principal, response_id: str, run: Callable[[], Awaitable[None]]
    ) -> None:
        """Run a background response in this process until it ends or is cancelled."""

        async def guarded() -> None:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background response %s failed unexpectedly", response_id)
            finally:
                self._running.pop(response_id, None)

        task = asyncio.create_task(guarded(), name=f"lowart-response-{response_id}")
        self._running[response_id] = (principal.key_id, task)

    async def cancel(self, principal: Principal, response_id: str) -> dict[str, Any]:
        """Cancel a background response: its task stops (recording the usage so far)
        and its state says `cancelled`; a finished one is returned as it is."""
        response, items = await self.get(principal, response_id)
        if not response.get("background"):
            raise InvalidRequest("Only background responses can be cancelled.")
        if await self.cancel_task(principal, response_id):
            response, _ = await self.get(principal, response_id)
        elif response.get("status") in _UNFINISHED:  # its process is gone
            response = {**response, "status": "cancelled"}
            await self._store.save(principal.key_id, response, items)
        return response

    async def cancel_task(self, principal: Principal, response_id: str) -> bool:
        running = self._running.get(response_id)
        if running is None or running[0] != principal.key_id:
            return False
        task = running[1]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def prune(self, older_than: datetime) -> int:
        return await self._store.prune(older_than)

    async def close(self) -> None:
        """Cancel the background runs still going (each records what it used)."""
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

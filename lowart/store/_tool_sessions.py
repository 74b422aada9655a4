"""Paused tool loops: one row per session, always read per key, continued once.

A session is written when a tool loop pauses on a `confirm` policy and claimed
(atomically, by one conditional UPDATE) when its client answers, so two answers
racing each other, or an answer after expiry, can never both continue it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.store._tables import tool_sessions

__all__ = ["Claim", "ToolSessionStore"]

_PENDING = "pending"
_CLAIMED = "claimed"


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming a session found: `ok` (it is now the caller's to continue),
    `missing` (no such session for this key), `expired` or `claimed` (continued already).
    `document` is the session's state for `ok` and `expired`."""

    status: Literal["ok", "missing", "expired", "claimed"]
    kind: str = ""
    document: dict[str, Any] | None = None


class ToolSessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(
        self,
        session_id: str,
        key_id: int,
        kind: str,
        document: bytes,
        expires_at: datetime,
    ) -> None:
        """Keep a paused session; `document` is its state as JSON."""
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.insert(tool_sessions).values(
                    id=session_id,
                    key_id=key_id,
                    kind=kind,
                    state=_PENDING,
                    document=document.decode(),
                    created_at=datetime.now(UTC),
                    expires_at=expires_at,
                )
            )

    async def claim(self, session_id: str, key_id: int) -> Claim:
        """Take a pending, unexpired session of this key (once: the row says `claimed`)."""
        now = datetime.now(UTC)
        mine = (tool_sessions.c.id == session_id) & (tool_sessions.c.key_id == key_id)
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                sa.update(tool_sessions)
                .where(mine, tool_sessions.c.state == _PENDING, tool_sessions.c.expires_at > now)
                .values(state=_CLAIMED)
            )
            query = sa.select(
                tool_sessions.c.kind, tool_sessions.c.state, tool_sessions.c.document
            ).where(mine)
            row = (await conn.execute(query)).first()
        if row is None:
            return Claim("missing")
        document = orjson.loads(row.document)
        if taken.rowcount == 1:
            return Claim("ok", row.kind, document)
        if row.state == _CLAIMED:
            return Claim("claimed", row.kind)
        return Claim("expired", row.kind, document)

    async def release(self, session_id: str, key_id: int) -> None:
        """Give a claimed session back (its answer was refused before anything ran)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(tool_sessions)
                .where(tool_sessions.c.id == session_id, tool_sessions.c.key_id == key_id)
                .values(state=_PENDING)
            )

    async def expire(self, session_id: str, key_id: int) -> bool:
        """Mark an expired session as answered (so its refusals are recorded once)."""
        async with self._engine.begin() as conn:
            done = await conn.execute(
                sa.update(tool_sessions)
                .where(
                    tool_sessions.c.id == session_id,
                    tool_sessions.c.key_id == key_id,
                    tool_sessions.c.state == _PENDING,
                )
                .values(state=_CLAIMED)
            )
        return bool(done.rowcount)

    async def prune(self, older_than: datetime) -> int:
        """Delete sessions that expired before `older_than`; how many went."""
        query = sa.delete(tool_sessions).where(tool_sessions.c.expires_at < older_than)
        async with self._engine.begin() as conn:
            return int((await conn.execute(query)).rowcount)

"""Dashboard sessions: a random id in an HttpOnly cookie stands for an API key.

The browser never holds the key after signing in: it holds only the session id
(in a cookie scripts cannot read) and a CSRF token (in page memory), and a
request counts as the key only when it carries both. Sessions live in this
process's memory, so they end when it restarts and each process of a
multi-process deployment has its own (sign in again; nothing else is lost).
Their count and lifetime are bounded: an idle session ends after `idle`
seconds, any session after `lifetime`, and the oldest goes when `capacity`
would be passed. The key is kept so every request re-authenticates it: a
revoked key stops working in its open sessions at once.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["Session", "SessionStore"]

_DEFAULT_CAPACITY = 10_000
_DEFAULT_IDLE = 3600.0
_DEFAULT_LIFETIME = 12 * 3600.0


@dataclass(slots=True)
class Session:
    id: str
    key: str = field(repr=False)
    csrf: str = field(repr=False)
    name: str
    admin: bool
    created: float
    used: float

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf)


class SessionStore:
    def __init__(
        self,
        *,
        capacity: int = _DEFAULT_CAPACITY,
        idle: float = _DEFAULT_IDLE,
        lifetime: float = _DEFAULT_LIFETIME,
    ) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._capacity = capacity
        self._idle = idle
        self.lifetime = lifetime

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, key: str, name: str, *, admin: bool) -> Session:
        now = time.monotonic()
        self._expire(now)
        while len(self._sessions) >= self._capacity:
            self._sessions.popitem(last=False)
        session = Session(
            id=secrets.token_urlsafe(32),
            key=key,
            csrf=secrets.token_urlsafe(32),
            name=name,
            admin=admin,
            created=now,
            used=now,
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of this id (its idle clock restarts), or None."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if self._expired(session, now):
            del self._sessions[session_id]
            return None
        session.used = now
        self._sessions.move_to_end(session_id)
        return session

    def close(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.used > self._idle or now - session.created > self.lifetime

    def _expire(self, now: float) -> None:
        """Drop idle sessions from the old end (the order is by last use)."""
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if not self._expired(oldest, now):
                return
            self._sessions.popitem(last=False)

"""Resumability for streamable HTTP: an in-memory, bounded, per-session event store.

The SDK hands one store to every session and names streams by JSON-RPC request
id, which repeats across sessions ("1" in each). Replaying by stream id alone
would hand one key's events to another, so each stored event remembers the
session it was written in (`SessionTag`, carried in a context variable the
HTTP handler sets) and a replay only ever returns events of the session that
asks. Events live in memory only: a restart forgets them, and the oldest are
dropped beyond `max_events`; a client that resumes too late simply starts over.
"""

from __future__ import annotations

import contextvars
import itertools
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp_types import JSONRPCMessage

__all__ = ["CURRENT_SESSION", "MemoryEventStore", "SessionTag"]


@dataclass(slots=True, eq=False)
class SessionTag:
    """The MCP session an HTTP request belongs to; filled in once the server names it."""

    session_id: str | None = None


CURRENT_SESSION: contextvars.ContextVar[SessionTag | None] = contextvars.ContextVar(
    "lowart_mcp_session", default=None
)


@dataclass(slots=True)
class _Event:
    session: SessionTag | None
    stream_id: str
    message: JSONRPCMessage | None


class MemoryEventStore(EventStore):
    def __init__(self, max_events: int = 10_000) -> None:
        self._max_events = max_events
        self._events: OrderedDict[str, _Event] = OrderedDict()
        self._prefix = uuid.uuid4().hex  # unguessable ids: a replay needs one the client saw
        self._counter = itertools.count()

    async def store_event(self, stream_id: str, message: JSONRPCMessage | None) -> str:
        event_id = f"{self._prefix}-{next(self._counter)}"
        self._events[event_id] = _Event(CURRENT_SESSION.get(), stream_id, message)
        while len(self._events) > self._max_events:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(
        self, last_event_id: str, send_callback: EventCallback
    ) -> str | None:
        last = self._events.get(last_event_id)
        asking = CURRENT_SESSION.get()
        if last is None or not _same_session(last.session, asking):
            return None
        replay: list[EventMessage] = []
        seen = False
        for event_id, event in self._events.items():
            if (
                seen
                and event.message is not None
                and event.stream_id == last.stream_id
                and _same_session(event.session, asking)
            ):
                replay.append(EventMessage(event.message, event_id))
            seen = seen or event_id == last_event_id
        for message in replay:  # copied first: sending may store new events
            await send_callback(message)
        return last.stream_id

    @property
    def size(self) -> int:
        """Events held now (never define __len__: the SDK tests the store for truth)."""
        return len(self._events)


def _same_session(stored: SessionTag | None, asking: SessionTag | None) -> bool:
    return (
        stored is not None
        and asking is not None
        and stored.session_id is not None
        and stored.session_id == asking.session_id
    )

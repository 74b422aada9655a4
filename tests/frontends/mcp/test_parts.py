"""The MCP frontend's small parts: origin policy, event store isolation, model kinds."""

from __future__ import annotations

import mcp_types as types

from lowart.frontends.mcp import MemoryEventStore, origin_allowed
from lowart.frontends.mcp._events import CURRENT_SESSION, SessionTag


def test_origin_policy_follows_the_dns_rebinding_guidance():
    assert origin_allowed(None, ())  # not a browser
    assert origin_allowed("http://localhost:5173", ())
    assert origin_allowed("http://127.0.0.1", ())
    assert origin_allowed("http://[::1]:8080", ())
    assert origin_allowed("http://127.1.2.3:9000", ())
    assert not origin_allowed("http://evil.example", ())
    assert not origin_allowed("http://localhost.evil.example", ())
    assert not origin_allowed("null", ())
    assert not origin_allowed("http://10.0.0.5", ())
    assert origin_allowed("https://agent.example", ("https://agent.example",))
    assert origin_allowed("https://anything.example", ("*",))


def _message(n: int) -> types.JSONRPCMessage:
    return types.JSONRPCNotification(
        jsonrpc="2.0", method="notifications/progress", params={"n": n}
    )


async def test_event_store_replays_only_the_asking_sessions_stream():
    store = MemoryEventStore()
    mine, theirs = SessionTag("s-mine"), SessionTag("s-theirs")
    ids = {}
    for tag, name in ((mine, "mine"), (theirs, "theirs")):
        token = CURRENT_SESSION.set(tag)
        try:
            ids[name] = await store.store_event("1", None)  # both sessions have a stream "1"
            await store.store_event("1", _message(1 if name == "mine" else 100))
            await store.store_event("2", _message(2))
        finally:
            CURRENT_SESSION.reset(token)
    replayed = []

    async def collect(event) -> None:
        replayed.append(event.message.params["n"])

    token = CURRENT_SESSION.set(SessionTag("s-mine"))
    try:
        assert await store.replay_events_after(ids["mine"], collect) == "1"
        assert replayed == [1]
        replayed.clear()
        assert await store.replay_events_after(ids["theirs"], collect) is None
        assert await store.replay_events_after("no-such-event", collect) is None
    finally:
        CURRENT_SESSION.reset(token)
    assert replayed == []


async def test_event_store_is_bounded():
    store = MemoryEventStore(max_events=3)
    for _ in range(10):
        await store.store_event("1", None)
    assert store.size == 3

"""Raw ``asyncio.Protocol`` byte relay: the floor of any CPython asyncio relay.

For each accepted connection it opens one connection to the upstream and
forwards bytes both ways, nothing parsed, nothing framed, no task per
connection: a ``data_received`` on one side is one ``transport.write`` on the
other.  Per relayed SSE event that is one ``recv``, one ``send`` and two
Python callbacks, which no HTTP gateway written on asyncio can go below; what
a gateway costs above this is what its HTTP handling, parsing and bookkeeping
cost.  Backpressure is the transports' own: a side whose peer's buffer is full
is paused until the peer drains.

Usage: ``python bench/_raw_relay.py PORT UPSTREAM_URL`` (``http://host:port``).
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit


class _Half(asyncio.Protocol):
    """One side of a relayed pair; writes what it receives to its peer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Half | None = None
        self.pending: list[bytes] = []  # client bytes that came before the upstream connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Forward to the peer, or hold until the peer is connected."""
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.write(data)
        else:
            self.pending.append(data)

    def eof_received(self) -> bool:
        """Half-close: pass the EOF on, keep the other direction open."""
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.transport.can_write_eof():
            peer.transport.write_eof()
            return True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """One side gone: close the other."""
        self.transport = None
        peer = self.peer
        if peer is not None and peer.transport is not None:
            peer.transport.close()

    def pause_writing(self) -> None:
        """Our transport's buffer is full: stop reading the peer."""
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        """Our transport drained: read the peer again."""
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _Client(_Half):
    """The accepted side: opens its upstream connection when it arrives."""

    upstream: tuple[str, int] = ("127.0.0.1", 80)
    upstream_protocol: type[_Half] = _Half  # _callback_relay.py parses the reply instead

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Connect to the upstream in the background; hold client bytes until then."""
        super().connection_made(transport)
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, up = await loop.create_connection(self.upstream_protocol, *self.upstream)
        except OSError:
            if self.transport is not None:
                self.transport.close()
            return
        if self.transport is None:  # the client left while we connected
            assert up.transport is not None
            up.transport.close()
            return
        up.peer, self.peer = self, up
        assert up.transport is not None
        for data in self.pending:
            up.transport.write(data)
        self.pending.clear()


async def serve(port: int, upstream: tuple[str, int]) -> None:
    """Listen on loopback until cancelled."""
    _Client.upstream = upstream
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Client, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Entry point: ``_raw_relay.py PORT UPSTREAM_URL``."""
    parts = urlsplit(sys.argv[2])
    upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
    try:
        asyncio.run(serve(int(sys.argv[1]), upstream))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

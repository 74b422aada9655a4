"""The pooled upstream client the chat adapters share (one per process).

Connections are kept per origin and reused most-recent-first, so a busy
gateway runs on a small warm set and the rest age out. An idle connection the
upstream has closed is noticed (the protocol sees the FIN) and never picked.
Requests are not retried here: a POST may already have been acted on, and the
router decides about retries with the route's policy.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

from lowart.upstream._connection import Connection
from lowart.upstream._errors import (
    ConnectFailed,
    ConnectTimeout,
    InvalidRequestHeader,
    TransportError,
)
from lowart.upstream._response import UpstreamResponse
from lowart.upstream._sse import MAX_EVENT_BYTES
from lowart.upstream._target import Target, target_for

__all__ = ["Timeouts", "UpstreamClient"]

Origin = tuple[str, str, int]

DNS_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; None means no limit.

    connect: to open a connection (DNS and TLS included); read: the longest
    silence while waiting for the response; total: the whole exchange.
    """

    connect: float | None = 10.0
    read: float | None = 600.0
    total: float | None = None


class UpstreamClient:
    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        keepalive: float = 15.0,
        max_idle_per_origin: int = 256,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "lowart",
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.max_event_bytes = max_event_bytes  # for the SSE parsers of streamed replies
        self._keepalive = keepalive
        self._max_idle = max_idle_per_origin
        self._ssl_context = ssl_context
        self._user_agent = user_agent
        self._idle: dict[Origin, list[Connection]] = {}
        self._dns: dict[tuple[str, int], tuple[float, list[tuple[int, str]]]] = {}
        self._closed = False
        self.connections_opened = 0  # for tests and diagnostics

    def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> _Exchange:
        """`async with client.post(...) as response:`; the response is ended on exit."""
        return _Exchange(self, "POST", url, body, headers, timeouts or self.timeouts)

    async def close(self) -> None:
        """Close idle connections; responses still being read close theirs when ended."""
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()

    # ------------------------------------------------------------------ one exchange
    async def send(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts,
    ) -> UpstreamResponse:
        """Send a request and wait for the response's status line and headers."""
        if self._closed:
            raise ConnectFailed("the upstream client is closed")
        try:
            target = target_for(url)
        except ValueError as exc:
            raise ConnectFailed(f"invalid upstream URL: {exc}") from exc
        data = self._request_bytes(method, target, headers, body)
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + timeouts.total if timeouts.total is not None else None
        conn = self._checkout(target.origin, now)
        if conn is None:
            connect = timeouts.connect
            if deadline is not None:  # connecting counts against the total too
                left = max(0.0, deadline - now)
                connect = left if connect is None else min(connect, left)
            conn = await self._connect(loop, target, connect)
        conn.begin(data, timeouts.read, deadline)
        try:
            await conn.wait_headers()
            return UpstreamResponse(conn, self._checkin_for(target.origin))
        except BaseException:
            conn.close()
            raise

    def _request_bytes(
        self, method: str, target: Target, headers: Mapping[str, str] | None, body: bytes
    ) -> bytes:
        lines = [f"{method} {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"]
        has_agent = False
        if headers:
            for name, value in headers.items():
                if not _safe(name) or not _safe(value):
                    raise InvalidRequestHeader(f"header {name!r} contains a line break")
                if name.lower() == "user-agent":
                    has_agent = True
                lines.append(f"{name}: {value}\r\n")
        if not has_agent:
            lines.append(f"User-Agent: {self._user_agent}\r\n")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        try:
            head = "".join(lines).encode("latin-1")
        except UnicodeEncodeError as exc:
            raise InvalidRequestHeader("a header value is not Latin-1 text") from exc
        return head + body if body else head

    # ------------------------------------------------------------------ the pool
    def _checkout(self, origin: Origin, now: float) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            transport = conn.transport
            if conn.lost or transport is None or transport.is_closing():
                continue
            if now - conn.idle_since > self._keepalive:
                conn.close()
                continue
            return conn
        return None

    def _checkin_for(self, origin: Origin) -> Callable[[Connection], None]:
        def give_back(conn: Connection) -> None:
            if self._closed:
                conn.close()
                return
            idle = self._idle.get(origin)
            if idle is None:
                idle = self._idle[origin] = []
            now = conn._loop.time()
            while idle and now - idle[0].idle_since > self._keepalive:  # the oldest age out
                idle.pop(0).close()
            if len(idle) >= self._max_idle:
                conn.close()
                return
            conn.idle_since = now
            idle.append(conn)

        return give_back

    # ------------------------------------------------------------------ connecting
    async def _connect(
        self, loop: asyncio.AbstractEventLoop, target: Target, within: float | None
    ) -> Connection:
        """A new connection (DNS, TCP and TLS) within `within` seconds."""
        context = self._tls_context() if target.tls else None
        try:
            async with asyncio.timeout(within):
                addresses = await self._resolve(loop, target.host, target.port)
                failure: BaseException | None = None
                for family, address in addresses:
                    try:
                        _, conn = await loop.create_connection(
                            lambda: Connection(loop),
                            host=address,
                            port=target.port,
                            family=family,
                            ssl=context,
                            server_hostname=target.host if context is not None else None,
                        )
                    except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
                        failure = exc
                        continue
                    self.connections_opened += 1
                    return conn
        except TimeoutError as exc:
            raise ConnectTimeout(f"connecting to {target.host_header} timed out") from exc
        except TransportError:
            raise
        except OSError as exc:  # DNS failures
            raise ConnectFailed(f"cannot resolve {target.host}: {exc}", reason="dns") from exc
        raise ConnectFailed(
            f"cannot connect to {target.host_header}: {failure}", reason=_connect_reason(failure)
        ) from failure

    async def _resolve(
        self, loop: asyncio.AbstractEventLoop, host: str, port: int
    ) -> list[tuple[int, str]]:
        """Addresses to try, IP literals as they are, names cached for DNS_TTL_S."""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, host)]
        now = loop.time()
        cached = self._dns.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        # SOCK_STREAM answers are AF_INET/AF_INET6, whose sockaddr starts with the address
        addresses: list[tuple[int, str]] = list(
            dict.fromkeys((family, str(sockaddr[0])) for family, *_, sockaddr in infos)
        )
        if not addresses:
            raise ConnectFailed(f"{host} has no addresses", reason="dns")
        self._dns[(host, port)] = (now + DNS_TTL_S, addresses)
        return addresses

    def _tls_context(self) -> ssl.SSLContext:
        """The system's CA store (honours SSL_CERT_FILE), loaded on the first https call."""
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context


def _connect_reason(failure: BaseException | None) -> str:
    """The word for why no address took the connection (the last one's failure)."""
    if isinstance(failure, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(failure, ConnectionRefusedError):
        return "refused"
    if isinstance(failure, OSError) and failure.errno in _UNREACHABLE:
        return "unreachable"
    if isinstance(failure, ConnectionResetError):
        return "reset"
    return "connect_error"


_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL)


def _safe(text: str) -> bool:
    return "\r" not in text and "\n" not in text and "\0" not in text


class _Exchange:
    """The `async with` around one request: the response is always ended on exit."""

    __slots__ = ("_args", "_client", "_response")

    def __init__(
        self,
        client: UpstreamClient,
        method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts,
    ) -> None:
        self._client = client
        self._args = (method, url, body, headers, timeouts)
        self._response: UpstreamResponse | None = None

    async def __aenter__(self) -> UpstreamResponse:
        self._response = await self._client.send(*self._args)
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            # A body read to its end is reused even if the caller then raised (an
            # upstream 4xx, say); anything half-read closes its connection.
            self._response.release()

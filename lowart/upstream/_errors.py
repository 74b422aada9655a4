"""What can go wrong talking to an upstream, before the gateway's vocabulary.

Adapters turn these into GatewayErrors (`translate_transport_error`); the
distinction matters there: a refused connection means another deployment may
help, a timeout is retried, a dropped stream is the upstream's fault.
"""

from __future__ import annotations

__all__ = [
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionDropped",
    "EventTooLarge",
    "InvalidRequestHeader",
    "InvalidResponse",
    "ReadTimeout",
    "TransportError",
]


class TransportError(Exception):
    """Base of every failure of the upstream HTTP client.

    `reason` says exactly what happened, in a word an operator can grep and count
    (the access log's `cause`, a metric's outcome): dns, refused, unreachable, tls,
    connect_error, connect_timeout, first_byte_timeout, read_timeout,
    total_timeout, reset, closed, invalid_response, event_too_large.
    """

    reason = "transport_error"

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ConnectFailed(TransportError):
    """No connection: DNS, refused, unreachable or the TLS handshake failed."""

    reason = "connect_error"


class ConnectTimeout(TransportError, TimeoutError):
    """The connection was not established within the connect timeout."""

    reason = "connect_timeout"


class ReadTimeout(TransportError, TimeoutError):
    """The upstream went silent for longer than the read timeout (or the total ran out)."""

    reason = "read_timeout"


class ConnectionDropped(TransportError):
    """The upstream closed the connection before its response was complete."""

    reason = "closed"


class InvalidResponse(TransportError):
    """The upstream's bytes are not valid HTTP/1.1."""

    reason = "invalid_response"


class InvalidRequestHeader(TransportError, ValueError):
    """A header we were asked to send would break the request (CR/LF, non-Latin-1)."""


class EventTooLarge(InvalidResponse):
    """One server-sent event outgrew the limit before its blank line came."""

    reason = "event_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"a stream event is larger than {limit} bytes")
        self.limit = limit

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
    """Base of every failure of the upstream HTTP client."""


class ConnectFailed(TransportError):
    """No connection: DNS, refused, unreachable or the TLS handshake failed."""


class ConnectTimeout(TransportError, TimeoutError):
    """The connection was not established within the connect timeout."""


class ReadTimeout(TransportError, TimeoutError):
    """The upstream went silent for longer than the read timeout (or the total ran out)."""


class ConnectionDropped(TransportError):
    """The upstream closed the connection before its response was complete."""


class InvalidResponse(TransportError):
    """The upstream's bytes are not valid HTTP/1.1."""


class InvalidRequestHeader(TransportError, ValueError):
    """A header we were asked to send would break the request (CR/LF, non-Latin-1)."""


class EventTooLarge(InvalidResponse):
    """One server-sent event outgrew the limit before its blank line came."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a stream event is larger than {limit} bytes")
        self.limit = limit

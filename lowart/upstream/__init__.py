"""A lean HTTP/1.1 client for calls to AI vendors (see `_connection` for why not aiohttp's)."""

from lowart.upstream._client import Timeouts, UpstreamClient
from lowart.upstream._errors import (
    ConnectFailed,
    ConnectionDropped,
    ConnectTimeout,
    EventTooLarge,
    InvalidRequestHeader,
    InvalidResponse,
    ReadTimeout,
    TransportError,
)
from lowart.upstream._response import MAX_BODY_BYTES, UpstreamResponse
from lowart.upstream._sse import MAX_EVENT_BYTES, SSEParser

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_EVENT_BYTES",
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionDropped",
    "EventTooLarge",
    "InvalidRequestHeader",
    "InvalidResponse",
    "ReadTimeout",
    "SSEParser",
    "Timeouts",
    "TransportError",
    "UpstreamClient",
    "UpstreamResponse",
]

"""A lean HTTP/1.1 client for calls to AI vendors (see `_connection` for why not aiohttp's)."""

from lowart.upstream._client import Timeouts, UpstreamClient
from lowart.upstream._errors import (
    ConnectFailed,
    ConnectionDropped,
    ConnectTimeout,
    InvalidRequestHeader,
    InvalidResponse,
    ReadTimeout,
    TransportError,
)
from lowart.upstream._response import MAX_BODY_BYTES, UpstreamResponse
from lowart.upstream._sse import SSEParser

__all__ = [
    "MAX_BODY_BYTES",
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionDropped",
    "InvalidRequestHeader",
    "InvalidResponse",
    "ReadTimeout",
    "SSEParser",
    "Timeouts",
    "TransportError",
    "UpstreamClient",
    "UpstreamResponse",
]

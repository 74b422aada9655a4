"""aiohttp helpers shared by the frontends served over HTTP (the HTTP API, MCP's
streamable HTTP transport, A2A): the caller's key and body, the call context, error
envelopes, the bridge that serves an SDK's ASGI app. Neutral ground, so those
frontends never import each other."""

from lowart.frontends._web._asgi import AsgiApp, AsgiBridge
from lowart.frontends._web._context import CTX, call_context
from lowart.frontends._web._envelope import (
    ANTHROPIC,
    OPENAI,
    ErrorEnvelope,
    envelope_of,
    error_response,
    speaks,
)
from lowart.frontends._web._request import SESSION_KEY, presented_key, read_json

__all__ = [
    "ANTHROPIC",
    "CTX",
    "OPENAI",
    "SESSION_KEY",
    "AsgiApp",
    "AsgiBridge",
    "ErrorEnvelope",
    "call_context",
    "envelope_of",
    "error_response",
    "presented_key",
    "read_json",
    "speaks",
]

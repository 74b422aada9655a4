"""The API key a gRPC caller presents, read the same way by every gRPC service
(lowart's own and A2A's): frontends may not import each other, so it lives here."""

from __future__ import annotations

from typing import Any

__all__ = ["grpc_presented_key"]


def grpc_presented_key(context: Any) -> str | None:
    """Metadata `authorization: Bearer KEY` (or `x-api-key: KEY`, as over HTTP)."""
    api_key = None
    for name, value in context.invocation_metadata() or ():
        if name == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
        if name == "x-api-key" and isinstance(value, str):
            api_key = value.strip() or None
    return api_key

"""The call context an aiohttp request carries (set by the HTTP request middleware)."""

from __future__ import annotations

from aiohttp import web

from lowart.types import CallContext

__all__ = ["CTX", "call_context"]

CTX: web.RequestKey[CallContext] = web.RequestKey("lowart.ctx", CallContext)


def call_context(request: web.Request) -> CallContext:
    return request[CTX]

"""Typed application state shared by the HTTP handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from lowart.types import CallContext

if TYPE_CHECKING:
    from lowart.app import Runtime

__all__ = ["CTX", "RUNTIME"]

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
CTX: web.RequestKey[CallContext] = web.RequestKey("lowart.ctx", CallContext)


def call_context(request: web.Request) -> CallContext:
    return request[CTX]

"""Typed application state: the two services every HTTP handler may use."""

from __future__ import annotations

from aiohttp import web

from lowart.admin import Admin
from lowart.gateway import Gateway

__all__ = ["ADMIN", "GATEWAY"]

GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)
ADMIN: web.AppKey[Admin] = web.AppKey("admin", Admin)

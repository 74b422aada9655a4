"""Typed application state: the two services every HTTP handler may use, the
requests in flight (what a graceful shutdown waits for) and dashboard sessions."""

from __future__ import annotations

import asyncio

from aiohttp import web

from lowart.admin import Admin
from lowart.frontends.http._sessions import SessionStore
from lowart.gateway import Gateway

__all__ = ["ADMIN", "GATEWAY", "IN_FLIGHT", "SESSIONS"]

GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)
ADMIN: web.AppKey[Admin] = web.AppKey("admin", Admin)
IN_FLIGHT: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("in_flight", set)
SESSIONS: web.AppKey[SessionStore] = web.AppKey("sessions", SessionStore)

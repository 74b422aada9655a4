"""Typed application state: the two services every HTTP handler may use, the
requests in flight (what a graceful shutdown waits for), dashboard sessions and
the tool loop of requests that give their model MCP tools."""

from __future__ import annotations

import asyncio

from aiohttp import web

from lowart.admin import Admin
from lowart.frontends.http._sessions import SessionStore
from lowart.gateway import Gateway
from lowart.toolruns import ToolLoop

__all__ = ["ADMIN", "GATEWAY", "IN_FLIGHT", "SESSIONS", "TOOL_LOOP"]

GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)
ADMIN: web.AppKey[Admin] = web.AppKey("admin", Admin)
IN_FLIGHT: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("in_flight", set)
SESSIONS: web.AppKey[SessionStore] = web.AppKey("sessions", SessionStore)
TOOL_LOOP: web.AppKey[ToolLoop] = web.AppKey("tool_loop", ToolLoop)
"""The tool loop of chat and Responses requests with MCP tools (absent: not offered)."""

"""One upstream MCP server: its session, kept alive by one supervisor task.

The supervisor connects with the official SDK client (streamable HTTP or a
stdio child process), lists the tools, then watches the session: a ping each
keepalive period, a re-list on `notifications/tools/list_changed`. When the
session breaks it reconnects with capped, jittered exponential backoff. Calls
come from request tasks and share the session; each is bounded by the
server's timeout. Cancelling the supervisor closes the session, which ends a
stdio child (the SDK terminates it; a child whose gateway died sees its stdin
close).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sys
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.session import IncomingMessage
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning

from lowart.toolhub._results import short_error
from lowart.toolhub._spec import ServerSpec

__all__ = ["Connection", "ServerSpec"]

log = logging.getLogger("lowart.toolhub")

_BACKOFF_FIRST = 0.5
_BACKOFF_CAP = 30.0
_MAX_TOOLS = 1_000  # tools kept per server: a listing is untrusted input too
_LIST_PAGES = 20


class Connection:
    """The live session of one server and what it offers."""

    def __init__(
        self,
        spec: ServerSpec,
        *,
        on_change: Callable[[], None],
        on_state: Callable[[Connection], None],
        keepalive: float = 15.0,
    ) -> None:
        self.spec = spec
        self.state = "connecting" if spec.enabled else "disabled"
        self.tools: dict[str, types.Tool] = {}
        self.last_error: str | None = None
        self.connected_since: datetime | None = None
        self._client: Client | None = None
        self._on_change = on_change
        self._on_state = on_state
        self._keepalive = keepalive
        self._relist = asyncio.Event()
        self._broken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.spec.enabled:
            self._task = asyncio.create_task(self._supervise(), name=f"lowart-mcp-{self.spec.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._client = None

    @property
    def client(self) -> Client | None:
        """The session to call through, or None while not connected."""
        return self._client if self.state == "connected" else None

    def broken(self, reason: str) -> None:
        """A call found the transport gone: reconnect now instead of at the next ping."""
        if self.state == "connected":
            self.last_error = short_error(reason, self.spec.secrets)
            self._broken.set()

    # ---- the supervisor -------------------------------------------------------------

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            self._set_state("connecting")
            try:
                async with self._session() as client:
                    await self._list_tools(client)
                    self._client = client
                    self.connected_since = datetime.now(UTC)
                    self._set_state("connected", error=None)
                    attempt = 0
                    await self._watch(client)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # ExceptionGroups from the SDK's task groups too
                self.last_error = short_error(_describe(exc), self.spec.secrets)
                log.warning("MCP server %s: %s", self.spec.name, self.last_error)
            self._client = None
            self.connected_since = None
            had_tools = bool(self.tools)
            self.tools = {}
            self._set_state("failed")
            if had_tools:
                self._on_change()
            delay = min(_BACKOFF_CAP, _BACKOFF_FIRST * 2**attempt) * random.uniform(0.5, 1.0)
            attempt = min(attempt + 1, 16)
            await asyncio.sleep(delay)

    async def _watch(self, client: Client) -> None:
        """Until the session breaks: re-list tools when told, ping when idle."""
        self._broken.clear()
        while True:
            relist = asyncio.ensure_future(self._relist.wait())
            broken = asyncio.ensure_future(self._broken.wait())
            try:
                await asyncio.wait(
                    {relist, broken}, timeout=self._keepalive, return_when="FIRST_COMPLETED"
                )
            finally:
                relist.cancel()
                broken.cancel()
            if self._broken.is_set():
                raise ConnectionError(self.last_error or "the session broke")
            if self._relist.is_set():
                self._relist.clear()
                await self._list_tools(client)
                self._set_state("connected")
            else:
                with warnings.catch_warnings():  # ping is legacy-only, and this session is
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    ping = client.send_ping()
                await asyncio.wait_for(ping, self.spec.call_timeout)

    async def _list_tools(self, client: Client) -> None:
        tools: dict[str, types.Tool] = {}
        cursor: str | None = None
        for _ in range(_LIST_PAGES):
            page = await asyncio.wait_for(
                client.list_tools(cursor=cursor, cache_mode="refresh"), self.spec.call_timeout
            )
            for tool in page.tools:
                if len(tools) < _MAX_TOOLS:
                    tools[tool.name] = tool
            cursor = page.next_cursor
            if cursor is None:
                break
        changed = tools != self.tools
        self.tools = tools
        if changed:
            self._on_change()

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._relist.set()
        elif isinstance(message, Exception):
            self.broken(_describe(message))

    def _set_state(self, state: str, *, error: str | bool | None = False) -> None:
        self.state = state
        if error is not False:
            self.last_error = error if isinstance(error, str) else None
        self._on_state(self)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Client]:
        spec = self.spec
        options: dict[str, Any] = {
            "mode": "legacy",
            "read_timeout_seconds": spec.call_timeout,
            "message_handler": self._on_message,
            "cache": None,
        }
        if spec.transport == "stdio":
            assert spec.command is not None
            parameters = StdioServerParameters(
                command=spec.command, args=list(spec.args), env=dict(spec.env)
            )
            async with Client(stdio_client(parameters, errlog=sys.stderr), **options) as client:
                yield client
            return
        assert spec.url is not None
        timeout = httpx2.Timeout(spec.call_timeout, connect=min(spec.call_timeout, 10.0))
        async with httpx2.AsyncClient(headers=spec.headers, timeout=timeout) as http:
            transport = streamable_http_client(
                spec.url, http_client=http, max_sse_event_size=spec.max_result_bytes * 2 + 65_536
            )
            async with Client(transport, **options) as client:
                yield client


def _describe(exc: BaseException) -> str:
    """The innermost useful message of an exception (groups unwrapped)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text

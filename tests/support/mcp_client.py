"""Connecting the official `mcp` SDK client to lowart, over streamable HTTP or stdio."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

# Every MCP exchange in the tests must finish well within this (seconds).
CLIENT_TIMEOUT = 15


@asynccontextmanager
async def http_client(
    url: str,
    key: str | None,
    *,
    mode: str = "legacy",
    uds: str | None = None,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> AsyncIterator[Client]:
    """An SDK client on lowart's /mcp; `legacy` is the session-based handshake wire."""
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    transport = httpx2.AsyncHTTPTransport(uds=uds) if uds else None
    async with httpx2.AsyncClient(
        headers=sent, transport=transport, timeout=httpx2.Timeout(CLIENT_TIMEOUT)
    ) as http:
        async with Client(
            streamable_http_client(url, http_client=http),
            mode=mode,
            read_timeout_seconds=CLIENT_TIMEOUT,
            **options,
        ) as client:
            yield client


def stdio_parameters(
    env: dict[str, str], *args: str, cwd: str | None = None
) -> StdioServerParameters:
    """`python -m lowart mcp` in a child process, as an agent would launch it."""
    return StdioServerParameters(
        command=sys.executable, args=["-m", "lowart", "mcp", *args], env=env, cwd=cwd
    )


@asynccontextmanager
async def stdio_session(
    env: dict[str, str], errlog: TextIO, *args: str, cwd: str | None = None, **options: Any
) -> AsyncIterator[Client]:
    async with Client(
        stdio_client(stdio_parameters(env, *args, cwd=cwd), errlog=errlog),
        mode="legacy",
        read_timeout_seconds=CLIENT_TIMEOUT,
        **options,
    ) as client:
        yield client

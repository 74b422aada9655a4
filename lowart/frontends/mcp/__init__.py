"""The MCP frontend: every model as a tool for agents, over stdio and streamable HTTP.

Importing this package is cheap: the MCP SDK (about 35 MiB with what it pulls in)
loads only when a name that needs it is first used, so a gateway whose clients
never speak MCP never pays for it (`mount_mcp` loads it on the first /mcp request).
"""

from __future__ import annotations

import importlib
from typing import Any

from lowart.frontends.mcp._mount import MCP_PATH, mount_mcp

__all__ = [
    "DEFAULT_RESOURCES",
    "DEFAULT_TOOLS",
    "MCP_PATH",
    "Caller",
    "McpHttpEndpoint",
    "MemoryEventStore",
    "ResourceSpec",
    "ToolImage",
    "ToolOutput",
    "ToolSpec",
    "build_server",
    "mount_mcp",
    "origin_allowed",
    "serve_stdio",
]

_LAZY = {
    "DEFAULT_RESOURCES": "_server",
    "DEFAULT_TOOLS": "_server",
    "build_server": "_server",
    "Caller": "_spec",
    "ResourceSpec": "_spec",
    "ToolImage": "_spec",
    "ToolOutput": "_spec",
    "ToolSpec": "_spec",
    "McpHttpEndpoint": "_http",
    "origin_allowed": "_http",
    "MemoryEventStore": "_events",
    "serve_stdio": "_stdio",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

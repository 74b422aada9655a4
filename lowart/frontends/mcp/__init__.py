"""The MCP frontend: every model as a tool for agents, over stdio and streamable HTTP."""

from lowart.frontends.mcp._events import MemoryEventStore
from lowart.frontends.mcp._http import McpHttpEndpoint, origin_allowed
from lowart.frontends.mcp._server import DEFAULT_RESOURCES, DEFAULT_TOOLS, build_server
from lowart.frontends.mcp._spec import Caller, ResourceSpec, ToolImage, ToolOutput, ToolSpec
from lowart.frontends.mcp._stdio import serve_stdio

__all__ = [
    "DEFAULT_RESOURCES",
    "DEFAULT_TOOLS",
    "Caller",
    "McpHttpEndpoint",
    "MemoryEventStore",
    "ResourceSpec",
    "ToolImage",
    "ToolOutput",
    "ToolSpec",
    "build_server",
    "origin_allowed",
    "serve_stdio",
]

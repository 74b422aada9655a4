"""What a tool or resource is to the MCP layer: data, so the lists are data-driven.

Each tool is a `ToolSpec` (name, schemas, description an agent can act on
without documentation, and the coroutine that runs it). The server lists and
dispatches whatever specs it is given, so a new tool (an image route's
`generate_image`, say) is one more spec, not a change to the protocol code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mcp_types as types

from lowart.admin import Admin
from lowart.gateway import Gateway
from lowart.types import CallContext, Principal

__all__ = ["Caller", "ProgressReporter", "ResourceSpec", "ToolImage", "ToolOutput", "ToolSpec"]

ProgressReporter = Callable[[float, float | None, str | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Caller:
    """One authenticated MCP request: the two services, who asks, and how to report progress."""

    gateway: Gateway
    admin: Admin
    principal: Principal
    request_id: str
    wants_progress: bool
    report_progress: ProgressReporter
    base_url: str | None = None
    """How the caller reaches lowart over HTTP (for links to result files); None on stdio."""
    ctx: CallContext | None = None
    """The tool call's context (the server made it, and reports the call's end)."""

    def call_context(self, *, links_from_caller: bool = True) -> CallContext:
        """The context a tool hands the Gateway (its own when the server made none).

        `links_from_caller=False` keeps links to result files as paths unless
        LOWART_PUBLIC_URL is set (what the image tool has always answered)."""
        ctx = self.ctx
        if ctx is None:
            ctx = CallContext(request_id=self.request_id, interface="mcp")
        ctx.base_url = self.base_url if links_from_caller else None
        return ctx


@dataclass(frozen=True, slots=True)
class ToolImage:
    """An image a tool returns (sent as MCP image content, base64)."""

    data: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """The answer text (what the agent reads), the structured result (what it parses),
    and any images (what it looks at)."""

    text: str
    structured: dict[str, Any]
    images: tuple[ToolImage, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any]
    run: Callable[[Caller, dict[str, Any]], Awaitable[ToolOutput]]
    read_only: bool = True
    # Whether this key sees the tool at all (an image tool only with an image route).
    available: Callable[[Gateway, Principal], bool] = lambda _gateway, _principal: True

    def describe(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=dict(self.input_schema),
            output_schema=dict(self.output_schema),
            annotations=types.ToolAnnotations(
                title=self.title, read_only_hint=self.read_only, open_world_hint=not self.read_only
            ),
        )


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    uri: str
    name: str
    title: str
    description: str
    read: Callable[[Caller], Awaitable[Any]]
    mime_type: str = "application/json"

    def describe(self) -> types.Resource:
        return types.Resource(
            uri=self.uri,
            name=self.name,
            title=self.title,
            description=self.description,
            mime_type=self.mime_type,
        )

"""One exchange of a tool loop as it travels: the request, the conversation, the bounds.

A `LoopRequest` is what a frontend hands the loop and what a paused session
keeps (`document`), so a session resumed by another process after a restart
goes on exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lowart.toolruns._events import PendingCall
from lowart.toolruns._spec import McpToolSpec, ToolPlan

__all__ = ["LoopBounds", "LoopRequest", "Resumed"]


@dataclass(frozen=True, slots=True)
class LoopBounds:
    max_steps: int = 8
    max_seconds: float = 120.0
    approval_ttl: float = 3600.0


@dataclass(slots=True)
class LoopRequest:
    """One exchange of a tool loop: the request, the conversation, where it stands."""

    kind: str
    """Who continues a paused session: "chat" or "responses" (its frontend's encoding)."""
    params: dict[str, Any]
    """The chat request's fields besides `messages` and `tools` (model, limits, ...)."""
    messages: list[dict[str, Any]]
    specs: list[McpToolSpec]
    client_tools: list[Any] = field(default_factory=list)
    """The client's own tools, offered beside the MCP ones; calling one ends the loop."""
    stream: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    """The frontend's own state, kept with a paused session and handed back on resume."""
    session_id: str | None = None
    """A paused session's id (the frontend may choose it, e.g. a Response's id)."""

    def body(self, plan: ToolPlan) -> dict[str, Any]:
        body = {**self.params, "messages": self.messages}
        tools = [*self.client_tools, *plan.functions()]
        if tools:
            body["tools"] = tools
        else:
            body.pop("tool_choice", None)
            body.pop("parallel_tool_calls", None)
        return body

    def document(self, pending: list[PendingCall]) -> dict[str, Any]:
        return {
            "params": self.params,
            "messages": self.messages,
            "specs": [s.as_json() for s in self.specs],
            "client_tools": self.client_tools,
            "extra": self.extra,
            "pending": [p.as_json() for p in pending],
        }

    @classmethod
    def from_document(cls, kind: str, document: dict[str, Any]) -> LoopRequest:
        return cls(
            kind=kind,
            params=dict(document.get("params") or {}),
            messages=list(document.get("messages") or []),
            specs=[McpToolSpec.from_json(s) for s in document.get("specs") or ()],
            client_tools=list(document.get("client_tools") or []),
            extra=dict(document.get("extra") or {}),
        )


@dataclass(slots=True)
class Resumed:
    """A claimed session: its request (to go on with) and the calls that waited."""

    session_id: str
    request: LoopRequest
    pending: list[PendingCall]

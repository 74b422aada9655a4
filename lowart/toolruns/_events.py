"""What a tool loop tells its frontend as it goes, in protocol-neutral terms.

A loop yields `ToolsListed` (once per server, at the start), `TextDelta` (the
model's words, every step, as they come), `ToolStarted`/`ToolEnded` around each
MCP tool call (also for calls that never ran: blocked or denied), and ends with
exactly one `Paused` (calls wait for the client's approval) or `Finished`. The
chat and Responses frontends turn these into their own wire shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lowart.toolhub import HubTool

__all__ = [
    "Finished",
    "LoopEvent",
    "Paused",
    "PendingCall",
    "TextDelta",
    "ToolEnded",
    "ToolRun",
    "ToolStarted",
    "ToolsListed",
]

RunStatus = Literal["in_progress", "completed", "failed", "blocked", "denied"]


@dataclass(frozen=True, slots=True)
class ToolsListed:
    server: str
    tools: list[HubTool]


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    step: int
    """Which model call (1, 2, ...) said it: a Responses stream opens a message per step."""


@dataclass(slots=True)
class ToolRun:
    """One MCP tool call of the model, as it starts and as it ended."""

    id: str
    server: str
    tool: str
    arguments: str
    status: RunStatus = "in_progress"
    output: str | None = None
    error: str | None = None
    duration_ms: float | None = None
    approval_request_id: str | None = None
    """The pending call's id when the client approved (or denied) it."""

    def as_json(self) -> dict[str, Any]:
        """The `lowart_tool` object chat clients see (stream extension and summary)."""
        found: dict[str, Any] = {
            "id": self.id,
            "server": self.server,
            "tool": self.tool,
            "status": self.status,
        }
        if self.duration_ms is not None:
            found["duration_ms"] = round(self.duration_ms, 1)
        if self.error:
            found["error"] = self.error
        return found


@dataclass(frozen=True, slots=True)
class ToolStarted:
    run: ToolRun


@dataclass(frozen=True, slots=True)
class ToolEnded:
    run: ToolRun


@dataclass(frozen=True, slots=True)
class PendingCall:
    """A call waiting for the client's approval (its id is the model's call id)."""

    id: str
    server: str
    tool: str
    exposed: str
    arguments: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "server": self.server,
            "tool": self.tool,
            "exposed": self.exposed,
            "arguments": self.arguments,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> PendingCall:
        return cls(
            id=str(value["id"]),
            server=str(value["server"]),
            tool=str(value["tool"]),
            exposed=str(value["exposed"]),
            arguments=str(value["arguments"]),
        )


@dataclass(frozen=True, slots=True)
class Paused:
    session_id: str
    expires_at: int
    """Unix seconds."""
    calls: list[PendingCall]
    model: str
    usage: dict[str, int]
    text: str
    """All the model said in this exchange (its steps' text joined)."""


@dataclass(frozen=True, slots=True)
class Finished:
    finish_reason: str
    model: str
    usage: dict[str, int]
    text: str
    """All the model said in this exchange (its steps' text joined)."""
    stopped: Literal["max_steps", "max_seconds"] | None = None
    """Set when a bound ended the loop before the model's answer."""
    client_calls: list[dict[str, Any]] = field(default_factory=list)
    """Calls of the client's own function tools: the client runs them."""


LoopEvent = ToolsListed | TextDelta | ToolStarted | ToolEnded | Paused | Finished

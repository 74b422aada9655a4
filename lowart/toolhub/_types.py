"""The shapes the tool hub hands out: a tool as a caller sees it, and a call's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DECISIONS", "OUTCOMES", "POLICIES", "HubTool", "Policy", "ToolOutcome"]

Policy = Literal["auto", "confirm", "block"]
"""What happens when a tool is called: run it, ask the caller first, or never run it."""

POLICIES: tuple[Policy, ...] = ("auto", "confirm", "block")

DECISIONS = ("auto", "approved", "blocked", "denied", "expired")
"""How a call was (or was not) allowed, as the audit records it: `auto` and
`approved` ran; `blocked`, `denied` and `expired` never did."""

OUTCOMES = ("ok", "error", "timeout", "too_large", "unavailable", "blocked", "denied", "expired")
"""What became of a call, as the audit and the metrics record it."""


@dataclass(frozen=True, slots=True)
class HubTool:
    """One upstream tool as one principal sees it (its policy is resolved for them)."""

    server: str
    """The registered server's name, e.g. "github"."""
    name: str
    """The upstream tool's own name, e.g. "create_issue"."""
    exposed: str
    """The name a model or an MCP client sees: `server__tool` (a valid OpenAI function name)."""
    description: str
    input_schema: dict[str, Any]
    policy: Policy
    """The policy for the principal that asked (never "block": blocked tools are hidden)."""

    @property
    def dotted(self) -> str:
        """`server.tool`: the name policies, allow-lists and the audit use."""
        return f"{self.server}.{self.name}"


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What one tool call produced, already bounded: results are untrusted input."""

    content: list[dict[str, Any]]
    """MCP content blocks as JSON dicts (text, image, resource, ...), size-capped."""
    text: str
    """Text for a model: the text blocks joined (plus the JSON of structured content), capped."""
    is_error: bool
    """The tool said isError, or the call timed out, was too large or failed."""
    error: str | None
    """A short, secret-free reason when `is_error` (None when the tool itself said so
    and `text` carries its message)."""
    duration_ms: float
    result_bytes: int
    """The size of the upstream result as received (for a too-large one: how far it got)."""
    outcome: str = "ok"
    """One of `OUTCOMES`: ok, error, timeout, too_large, unavailable."""

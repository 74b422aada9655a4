"""The tool hub's errors, in the gateway's one error vocabulary."""

from __future__ import annotations

from lowart.errors import NotFound, PermissionDenied, ServiceUnavailable

__all__ = ["ToolBlocked", "ToolNotFound", "ToolUnavailable"]


class ToolBlocked(PermissionDenied):
    """403: the tool's policy for this key is `block`; it never runs."""

    default_code = "tool_blocked"


class ToolNotFound(NotFound):
    """404: no such server or tool, or this key may not use it (the same answer for
    both, so a key cannot probe for tools it is not allowed to see)."""

    default_code = "tool_not_found"


class ToolUnavailable(ServiceUnavailable):
    """503: the tool's server is registered but not connected right now."""

    default_code = "tool_unavailable"

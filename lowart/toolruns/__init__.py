"""Tool runs: how frontends use upstream MCP tools, under their policies.

`ToolAccess` (owned by the tool hub's side) is the small facade the MCP
frontend uses to list and call upstream tools for a caller; the tool loop of
chat completions and the Responses API lives beside it. Frontends never import
`lowart.toolhub`: the names they need are re-exported here.
"""

from lowart.toolhub import (
    HubTool,
    Policy,
    ToolBlocked,
    ToolNotFound,
    ToolOutcome,
    ToolUnavailable,
)
from lowart.toolruns._access import ToolAccess

__all__ = [
    "HubTool",
    "Policy",
    "ToolAccess",
    "ToolBlocked",
    "ToolNotFound",
    "ToolOutcome",
    "ToolUnavailable",
]

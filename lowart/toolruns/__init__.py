"""Tool runs: how frontends use upstream MCP tools, under their policies.

`ToolAccess` (owned by the tool hub's side) is the small facade the MCP
frontend uses to list and call upstream tools for a caller. `ToolLoop` runs
chat completions and Responses API requests that give their model MCP tools:
the loop of model calls and tool calls, paused sessions and their approval
(see `_loop`). Frontends never import `lowart.toolhub`: the names they need
are re-exported here.
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
from lowart.toolruns._errors import (
    ToolSessionContinued,
    ToolSessionExpired,
    ToolSessionNotFound,
)
from lowart.toolruns._events import (
    Finished,
    LoopEvent,
    Paused,
    PendingCall,
    TextDelta,
    ToolEnded,
    ToolRun,
    ToolsListed,
    ToolStarted,
)
from lowart.toolruns._loop import ToolLoop
from lowart.toolruns._request import LoopBounds, LoopRequest, Resumed
from lowart.toolruns._spec import McpToolSpec, ToolPlan, mcp_specs

__all__ = [
    "Finished",
    "HubTool",
    "LoopBounds",
    "LoopEvent",
    "LoopRequest",
    "McpToolSpec",
    "Paused",
    "PendingCall",
    "Policy",
    "Resumed",
    "TextDelta",
    "ToolAccess",
    "ToolBlocked",
    "ToolEnded",
    "ToolLoop",
    "ToolNotFound",
    "ToolOutcome",
    "ToolPlan",
    "ToolRun",
    "ToolSessionContinued",
    "ToolSessionExpired",
    "ToolSessionNotFound",
    "ToolStarted",
    "ToolUnavailable",
    "ToolsListed",
    "mcp_specs",
]

"""The tool hub: upstream MCP servers, their tools and policies, behind one entry point.

Public API (the contract other packages build on, see docs in each name):
`ToolHub` (connections, tools, policies, calls, audit), `HubTool` and
`ToolOutcome` (what it hands out), `Policy`, and its errors `ToolBlocked`,
`ToolNotFound` and `ToolUnavailable`. Names are `server.tool` for policies
and the audit, `server__tool` for what a model or MCP client sees.
"""

from lowart.toolhub._errors import ToolBlocked, ToolNotFound, ToolUnavailable
from lowart.toolhub._hub import ToolHub
from lowart.toolhub._names import SERVER_NAME, exposed_name, split_name
from lowart.toolhub._policies import PolicyBook, Rule, allows
from lowart.toolhub._types import DECISIONS, OUTCOMES, POLICIES, HubTool, Policy, ToolOutcome

__all__ = [
    "DECISIONS",
    "OUTCOMES",
    "POLICIES",
    "SERVER_NAME",
    "HubTool",
    "Policy",
    "PolicyBook",
    "Rule",
    "ToolBlocked",
    "ToolHub",
    "ToolNotFound",
    "ToolOutcome",
    "ToolUnavailable",
    "allows",
    "exposed_name",
    "split_name",
]

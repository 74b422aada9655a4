"""What a request asks of MCP tools, checked, and the tools it really gets.

Clients name upstream MCP servers the Responses API's way, on the Responses API
and (a lowart extension) in a chat completion's `tools`:

    {"type": "mcp", "server_label": "github", "server_url"?: "...",
     "allowed_tools"?: ["create_issue"] | {"tool_names": [...]},
     "require_approval"?: "always" | "never" | {"always": {...}, "never": {...}}}

The label names a server the admin registered; a request can never point
lowart at a server of its own (`server_url` must equal the registered URL,
credentials in `headers`/`authorization` are refused: the admin configures
them). A client's `require_approval` only ever makes a tool stricter: "always"
turns `auto` into `confirm`, "never" cannot loosen an admin's `confirm`, and a
`block` stays blocked whatever the request says. Everything is checked before
any model call, so a bad request costs no tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lowart.errors import GatewayError, InvalidRequest
from lowart.toolhub import HubTool, Policy, ToolHub, ToolNotFound, ToolUnavailable
from lowart.types import Principal

__all__ = ["McpToolSpec", "ToolPlan", "mcp_specs", "plan_tools"]

_MAX_SERVERS = 16
_MAX_NAMES = 256
_REFUSED_FIELDS = ("headers", "authorization")
_UNSUPPORTED_FIELDS = ("connector_id", "tunnel_id")


@dataclass(frozen=True, slots=True)
class McpToolSpec:
    """One `{"type": "mcp"}` tool of a request, checked for shape."""

    server: str
    allowed: tuple[str, ...] | None = None
    """Upstream tool names the request limits the server to (None: all it may use)."""
    confirm_all: bool = False
    """The request asks for approval of every call ("always")."""
    confirm: tuple[str, ...] = ()
    """Tool names the request asks approval for (`{"always": {"tool_names": [...]}}`)."""
    server_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        """What a paused session keeps to plan the same tools again when it resumes."""
        return {
            "server": self.server,
            "allowed": list(self.allowed) if self.allowed is not None else None,
            "confirm_all": self.confirm_all,
            "confirm": list(self.confirm),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> McpToolSpec:
        allowed = value.get("allowed")
        return cls(
            server=str(value["server"]),
            allowed=tuple(allowed) if allowed is not None else None,
            confirm_all=bool(value.get("confirm_all")),
            confirm=tuple(value.get("confirm") or ()),
        )


def mcp_specs(tools: Any, param: str = "tools") -> tuple[list[McpToolSpec], list[Any]]:
    """The request's MCP tools, and its other tools (passed on as they are)."""
    if not isinstance(tools, list):
        return [], tools if tools is not None else []
    specs: list[McpToolSpec] = []
    others: list[Any] = []
    for index, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            specs.append(_spec(tool, f"{param}[{index}]"))
        else:
            others.append(tool)
    if len(specs) > _MAX_SERVERS:
        raise InvalidRequest(f"At most {_MAX_SERVERS} MCP servers per request.", param=param)
    labels = [s.server for s in specs]
    if len(set(labels)) != len(labels):
        raise InvalidRequest("Each MCP 'server_label' may appear once.", param=param)
    return specs, others


def _spec(tool: dict[str, Any], param: str) -> McpToolSpec:
    label = tool.get("server_label")
    if not isinstance(label, str) or not label:
        raise InvalidRequest(f"'{param}.server_label' is required.", param=f"{param}.server_label")
    for name in _REFUSED_FIELDS:
        if tool.get(name):
            raise InvalidRequest(
                f"'{param}.{name}' is not accepted: lowart's administrator configures the "
                "credentials of each MCP server.",
                param=f"{param}.{name}",
            )
    for name in _UNSUPPORTED_FIELDS:
        if tool.get(name):
            raise InvalidRequest(
                f"'{param}.{name}' is not supported; name a registered server in 'server_label'.",
                param=f"{param}.{name}",
            )
    url = tool.get("server_url")
    if url is not None and not isinstance(url, str):
        raise InvalidRequest(f"'{param}.server_url' must be a string.", param=f"{param}.server_url")
    confirm_all, confirm = _approval(tool.get("require_approval"), f"{param}.require_approval")
    return McpToolSpec(
        server=label[:64],
        allowed=_allowed(tool.get("allowed_tools"), f"{param}.allowed_tools"),
        confirm_all=confirm_all,
        confirm=confirm,
        server_url=url,
    )


def _names(value: Any, param: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidRequest(f"'{param}' must be an array of tool names.", param=param)
    if len(value) > _MAX_NAMES:
        raise InvalidRequest(f"'{param}' names more than {_MAX_NAMES} tools.", param=param)
    return tuple(value)


def _allowed(value: Any, param: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("read_only") is not None:
            raise InvalidRequest(
                f"'{param}.read_only' is not supported; list the tools in 'tool_names'.",
                param=f"{param}.read_only",
            )
        return _names(value.get("tool_names", []), f"{param}.tool_names")
    return _names(value, param)


def _approval(value: Any, param: str) -> tuple[bool, tuple[str, ...]]:
    """(approve every call, tool names to approve); "never" loosens nothing."""
    if value is None or value == "never":
        return False, ()
    if value == "always":
        return True, ()
    if not isinstance(value, dict):
        raise InvalidRequest(
            f"'{param}' must be 'always', 'never' or an object with 'always' / 'never'.",
            param=param,
        )
    always = value.get("always")
    if always is None:
        return False, ()
    if not isinstance(always, dict):
        raise InvalidRequest(f"'{param}.always' must be an object.", param=f"{param}.always")
    if always.get("read_only") is not None:  # cannot be judged here: the stricter reading
        return True, ()
    return False, _names(always.get("tool_names", []), f"{param}.always.tool_names")


@dataclass(frozen=True, slots=True)
class OfferedTool:
    """An upstream tool offered to the model, with its policy for this request."""

    tool: HubTool
    policy: Policy


@dataclass(slots=True)
class ToolPlan:
    """The tools one request offers its model, by the name the model calls them."""

    specs: list[McpToolSpec]
    offered: dict[str, OfferedTool] = field(default_factory=dict)
    listed: dict[str, list[HubTool]] = field(default_factory=dict)
    """Per server, the tools offered (what a Responses `mcp_list_tools` item shows)."""

    def functions(self) -> list[dict[str, Any]]:
        """The offered tools as chat function tools (`server__tool`, upstream schema)."""
        return [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": offered.tool.description,
                    "parameters": offered.tool.input_schema or {"type": "object"},
                },
            }
            for name, offered in self.offered.items()
        ]


def plan_tools(
    hub: ToolHub, principal: Principal, specs: Sequence[McpToolSpec], *, strict: bool = True
) -> ToolPlan:
    """Resolve each spec against the registry for this key: 404 for a server it cannot
    use, 400 for a `server_url` that is not the server's registered one, 404/403 for a
    named tool it may not use. Not `strict` (a paused session resuming): what cannot be
    offered any more is left out instead, and the model is told when it calls it."""
    plan = ToolPlan(list(specs))
    for spec in specs:
        if not strict:
            try:
                _plan_one(hub, principal, spec, plan)
            except GatewayError:
                continue
        else:
            _plan_one(hub, principal, spec, plan)
    return plan


def _plan_one(hub: ToolHub, principal: Principal, spec: McpToolSpec, plan: ToolPlan) -> None:
    if spec.server_url is not None and spec.server_url != hub.server_url(spec.server):
        raise InvalidRequest(
            f"'server_url' does not match the registered MCP server '{spec.server}'; "
            "only servers registered by an administrator can be used.",
            param="tools.server_url",
            code="mcp_server_url_mismatch",
        )
    visible = hub.tools_for(principal, [spec.server])
    if not visible and hub.waiting_for(principal, spec.server):
        raise ToolUnavailable(
            f"MCP server '{spec.server}' is not connected right now; try again shortly.",
            param="tools.server_label",
        )
    if not visible:
        raise ToolNotFound(
            f"MCP server '{spec.server}' is unknown, not connected, or offers this key no tools.",
            param="tools.server_label",
        )
    if spec.allowed is not None:
        for name in spec.allowed:  # raises ToolNotFound / ToolBlocked
            hub.resolve(principal, f"{spec.server}.{name}")
        visible = [t for t in visible if t.name in spec.allowed]
    plan.listed[spec.server] = visible
    for tool in visible:
        stricter = spec.confirm_all or tool.name in spec.confirm
        policy: Policy = "confirm" if stricter and tool.policy == "auto" else tool.policy
        plan.offered[tool.exposed] = OfferedTool(tool, policy)

"""The Admin service: configuration, keys and usage queries (CLI, admin API, MCP)."""

from lowart.admin._checks import parse_since
from lowart.admin._routing import DEFAULT_ALIAS, RoutingAdmin, check_weight
from lowart.admin._service import Admin
from lowart.admin._tools import ToolsAdmin

__all__ = ["DEFAULT_ALIAS", "Admin", "RoutingAdmin", "ToolsAdmin", "check_weight", "parse_since"]

"""`lowart mcp-servers ...` and `lowart tools ...`: the MCP gateway from the command line.

The same `Admin.tools` operations as the admin API. A header or environment
value may be given as `NAME=VALUE` or, to keep it out of the shell history
and the process list, `NAME=env:VARIABLE` (read from this command's environment).
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from lowart.admin import Admin, ToolsAdmin
from lowart.cli._output import json_line, print_rows
from lowart.cli._table import render_table

__all__ = ["add_tool_commands", "print_tool_calls"]

RunWithAdmin = Callable[[argparse.Namespace, Callable[[Admin], Awaitable[Any]]], Any]

_SERVER_COLUMNS = (
    "name",
    "transport",
    "target",
    "enabled",
    "state",
    "tool_count",
    "connected_since",
    "last_error",
)
_CALL_COLUMNS = (
    "at",
    "key",
    "server",
    "tool",
    "decision",
    "outcome",
    "duration_ms",
    "result_bytes",
    "error",
)


def _tools(admin: Admin) -> ToolsAdmin:
    assert admin.tools is not None  # Admin.over always builds it
    return admin.tools


def _pairs(values: list[str] | None, what: str) -> dict[str, str] | None:
    if values is None:
        return None
    pairs: dict[str, str] = {}
    for item in values:
        name, found, value = item.partition("=")
        if not found or not name:
            raise argparse.ArgumentTypeError(f"{what} must be NAME=VALUE or NAME=env:VAR")
        if value.startswith("env:"):
            variable = value[4:]
            if variable not in os.environ:
                raise SystemExit(f"error: {what} {name}: ${variable} is not set")
            value = os.environ[variable]
        pairs[name] = value
    return pairs


def _command_words(command_line: str | None) -> list[str]:
    """`--command "npx -y @scope/server --flag"` split as a shell would: what people
    paste from a server's README (argparse would take `--arg -y` for an option)."""
    if command_line is None:
        return []
    try:
        words = shlex.split(command_line)
    except ValueError as exc:
        raise SystemExit(f"error: --command: {exc}") from None
    if not words:
        raise SystemExit("error: --command is empty")
    return words


def _server_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if args.url is not None:
        fields["url"] = args.url
    words = _command_words(args.command_line)
    if words:
        fields["command"] = words[0]
    extra = [*words[1:], *(args.arg or ())]
    if words or args.arg is not None:
        fields["args"] = extra
    headers = _pairs(args.header, "--header")
    if headers is not None:
        fields["headers"] = headers
    env = _pairs(args.env, "--env")
    if env is not None:
        fields["env"] = env
    if args.timeout is not None:
        fields["timeout"] = args.timeout
    if args.max_result_bytes is not None:
        fields["max_result_bytes"] = args.max_result_bytes
    if args.enabled is not None:
        fields["enabled"] = args.enabled
    if getattr(args, "clear_headers", False):
        fields["headers"] = {}
    if getattr(args, "clear_env", False):
        fields["env"] = {}
    return fields


def _show_servers(rows: list[dict[str, Any]], json_output: bool) -> None:
    table = [
        {
            **row,
            "target": row["url"] or " ".join([row["command"] or "", *row["args"]]).strip(),
        }
        for row in rows
    ]
    print_rows(table, _SERVER_COLUMNS, json_output=json_output, raw=rows)


def print_tool_calls(rows: list[dict[str, Any]], json_output: bool) -> None:
    """Audit rows, oldest first (like a log)."""
    ordered = list(reversed(rows))
    if json_output:
        for row in ordered:
            print(json_line(row))
    else:
        print(render_table(ordered, _CALL_COLUMNS))


def _add_server_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    target = parser.add_mutually_exclusive_group(required=creating)
    target.add_argument("--url", help="streamable HTTP endpoint (http:// or https://)")
    target.add_argument(
        "--command",
        dest="command_line",
        help="stdio: the command line to start, split like a shell (admin only)",
    )
    parser.add_argument(
        "--arg", action="append", help="stdio: one more argument (repeatable; --arg=-x for a dash)"
    )
    parser.add_argument(
        "--header", action="append", metavar="NAME=VALUE", help="HTTP header (repeatable)"
    )
    parser.add_argument(
        "--env", action="append", metavar="NAME=VALUE", help="stdio: variable (repeatable)"
    )
    parser.add_argument("--timeout", type=float, help="seconds per call (default 30, max 300)")
    parser.add_argument("--max-result-bytes", type=int, help="default 262144, max 4194304")
    state = parser.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_const", const=True)
    state.add_argument("--disable", dest="enabled", action="store_const", const=False)
    parser.set_defaults(enabled=None)
    if not creating:
        parser.add_argument("--clear-headers", action="store_true", help="remove all headers")
        parser.add_argument("--clear-env", action="store_true", help="remove all variables")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def add_tool_commands(
    sub: Any, run: RunWithAdmin, add_db: Callable[[argparse.ArgumentParser], None]
) -> None:
    _add_server_commands(sub, run, add_db)
    _add_policy_commands(sub, run, add_db)


def _add_server_commands(
    sub: Any, run: RunWithAdmin, add_db: Callable[[argparse.ArgumentParser], None]
) -> None:
    servers = sub.add_parser("mcp-servers", help="upstream MCP servers").add_subparsers(
        dest="mcp_action", required=True
    )

    def add(args: argparse.Namespace) -> int:
        row = run(args, lambda admin: _tools(admin).add_server(args.name, **_server_fields(args)))
        _show_servers([row], args.json)
        return 0

    def update(args: argparse.Namespace) -> int:
        fields = _server_fields(args)
        row = run(args, lambda admin: _tools(admin).update_server(args.name, **fields))
        _show_servers([row], args.json)
        return 0

    def listing(args: argparse.Namespace) -> int:
        _show_servers(run(args, lambda admin: _tools(admin).list_servers()), args.json)
        return 0

    def remove(args: argparse.Namespace) -> int:
        run(args, lambda admin: _tools(admin).remove_server(args.name))
        print(f"Removed the MCP server '{args.name}'.")
        return 0

    parser = servers.add_parser("add", help="register a server (HTTP --url or stdio --command)")
    parser.add_argument("name")
    _add_server_options(parser, creating=True)
    add_db(parser)
    parser.set_defaults(func=add)
    parser = servers.add_parser("update", help="change a server")
    parser.add_argument("name")
    _add_server_options(parser, creating=False)
    add_db(parser)
    parser.set_defaults(func=update)
    parser = servers.add_parser("list", help="servers with their state (header/env names only)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db(parser)
    parser.set_defaults(func=listing)
    parser = servers.add_parser("remove", help="unregister a server")
    parser.add_argument("name")
    add_db(parser)
    parser.set_defaults(func=remove)


def _add_policy_commands(
    sub: Any, run: RunWithAdmin, add_db: Callable[[argparse.ArgumentParser], None]
) -> None:
    tools = sub.add_parser("tools", help="upstream MCP tools and their policies").add_subparsers(
        dest="tools_action", required=True
    )

    def listing(args: argparse.Namespace) -> int:
        rows = run(args, lambda admin: _tools(admin).list_tools(args.key))
        print_rows(rows, ("server", "tool", "exposed", "policy", "allowed"), json_output=args.json)
        return 0

    parser = tools.add_parser("list", help="tools of the connected servers, policy resolved")
    parser.add_argument("--key", help="as this key sees them (name or id)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db(parser)
    parser.set_defaults(func=listing)

    policy = tools.add_parser("policy", help="auto | confirm | block per tool pattern")
    actions = policy.add_subparsers(dest="policy_action", required=True)

    def set_policy(args: argparse.Namespace) -> int:
        row = run(args, lambda admin: _tools(admin).set_policy(args.pattern, args.policy, args.key))
        scope = f"key '{row['key']}'" if row["key"] else "every key"
        print(f"Tools matching '{row['pattern']}' are now '{row['policy']}' for {scope}.")
        return 0

    def list_policies(args: argparse.Namespace) -> int:
        rows = run(args, lambda admin: _tools(admin).list_policies())
        shown = [{**row, "key": row["key"] or "(all)"} for row in rows]
        print_rows(shown, ("pattern", "policy", "key"), json_output=args.json, raw=rows)
        return 0

    def remove_policy(args: argparse.Namespace) -> int:
        run(args, lambda admin: _tools(admin).remove_policy(args.pattern, args.key))
        print(f"Removed the policy of '{args.pattern}'.")
        return 0

    parser = actions.add_parser("set", help="set the policy of PATTERN (server.tool glob)")
    parser.add_argument("pattern")
    parser.add_argument("policy", choices=("auto", "confirm", "block"))
    parser.add_argument("--key", help="only for this key (name or id); default: every key")
    add_db(parser)
    parser.set_defaults(func=set_policy)
    parser = actions.add_parser("list", help="every policy rule")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db(parser)
    parser.set_defaults(func=list_policies)
    parser = actions.add_parser("remove", help="remove the rule of PATTERN (in that scope)")
    parser.add_argument("pattern")
    parser.add_argument("--key", help="the key's own rule (default: the global one)")
    add_db(parser)
    parser.set_defaults(func=remove_policy)

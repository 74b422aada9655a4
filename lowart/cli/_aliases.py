"""`lowart models alias | unalias | aliases | default`: model names that resolve to a route."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from lowart.admin import DEFAULT_ALIAS, Admin
from lowart.cli._output import print_rows
from lowart.cli._table import render_table
from lowart.config import Settings

__all__ = ["add_alias_commands", "render_aliases"]

WithAdmin = Callable[[Settings, Callable[[Admin], Awaitable[Any]]], Coroutine[Any, Any, Any]]


def render_aliases(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ("pattern", "model"))


def add_alias_commands(
    models: Any,
    with_admin: WithAdmin,
    settings_of: Callable[[argparse.Namespace], Settings],
    add_db: Callable[[argparse.ArgumentParser], None],
) -> None:
    def run(args: argparse.Namespace, action: Callable[[Admin], Awaitable[Any]]) -> Any:
        return asyncio.run(with_admin(settings_of(args), action))

    def alias(args: argparse.Namespace) -> int:
        row = run(args, lambda admin: admin.routing.add_alias(args.pattern, args.model))
        print(f"Requests for '{row['pattern']}' now go to '{row['model']}'.")
        return 0

    def unalias(args: argparse.Namespace) -> int:
        run(args, lambda admin: admin.routing.remove_alias(args.pattern))
        print(f"Removed the alias '{args.pattern}'.")
        return 0

    def listing(args: argparse.Namespace) -> int:
        rows = run(args, lambda admin: admin.routing.list_aliases())
        print_rows(rows, ("pattern", "model"), json_output=args.json)
        return 0

    def default(args: argparse.Namespace) -> int:
        if args.none:
            run(args, lambda admin: admin.routing.remove_alias(DEFAULT_ALIAS))
            print("No default route: unknown model names are not found.")
        elif args.model:
            run(args, lambda admin: admin.routing.add_alias(DEFAULT_ALIAS, args.model))
            print(f"Model names no route or alias matches now go to '{args.model}'.")
        else:
            rows = run(args, lambda admin: admin.routing.list_aliases())
            found = [r["model"] for r in rows if r["pattern"] == DEFAULT_ALIAS]
            print(found[0] if found else "(none)")
        return 0

    add = models.add_parser(
        "alias",
        help="send requests for PATTERN (a name, or a shell pattern like 'claude-*') to MODEL",
    )
    add.add_argument("pattern")
    add.add_argument("model")
    add_db(add)
    add.set_defaults(func=alias)
    remove = models.add_parser("unalias", help="remove an alias")
    remove.add_argument("pattern")
    add_db(remove)
    remove.set_defaults(func=unalias)
    shown = models.add_parser("aliases", help="list aliases")
    shown.add_argument("--json", action="store_true", help="machine-readable output")
    add_db(shown)
    shown.set_defaults(func=listing)
    fallback = models.add_parser(
        "default", help="the route for model names no route or alias matches (alias '*')"
    )
    fallback.add_argument("model", nargs="?")
    fallback.add_argument("--none", action="store_true", help="remove the default route")
    add_db(fallback)
    fallback.set_defaults(func=default)

"""`lowart stats` and `lowart logs`: what the gateway did, for operators and scripts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from lowart.admin import Admin
from lowart.cli._output import as_csv, as_json, json_line
from lowart.cli._table import render_table
from lowart.cli._tools import print_tool_calls
from lowart.store import REPORT_GROUPS

__all__ = ["add_usage_commands"]

WithAdmin = Callable[[argparse.Namespace, Callable[[Admin], Awaitable[Any]]], Any]

_STAT_COLUMNS = (
    "requests",
    "errors",
    "error_rate",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "total_tokens",
    "cost",
    "currency",
    "p50_latency_ms",
    "p95_latency_ms",
    "p50_ttft_ms",
    "p95_ttft_ms",
)
_LOG_COLUMNS = (
    "id",
    "created_at",
    "key_name",
    "route",
    "interface",
    "status",
    "http_status",
    "error_code",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "latency_ms",
    "ttft_ms",
    "request_id",
)
_FOLLOW_MAX_INTERVAL = 60.0


def _stats(args: argparse.Namespace, with_admin: WithAdmin) -> int:
    report = with_admin(args, lambda admin: admin.usage_report(by=args.by, since=args.since))
    group = REPORT_GROUPS[args.by]
    columns = (group, *_STAT_COLUMNS)
    total = {group: "TOTAL", **report["total"]}
    if args.json:
        print(as_json(report))
    elif args.csv:
        print(as_csv([*report["data"], total], columns))
    elif not report["data"]:
        print("(none)")
    else:
        rows = [{**row, "error_rate": _percent(row["error_rate"])} for row in report["data"]]
        rows.append({**total, "error_rate": _percent(total["error_rate"])})
        print(render_table(rows, columns))
    return 0


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _log_line(row: dict[str, Any]) -> str:
    """One record as a line a person scans: when, who, what, how it went, what it cost."""
    ttft = f" ttft={row['ttft_ms']:.0f}ms" if row.get("ttft_ms") is not None else ""
    cost = f" cost={row['cost']} {row['currency']}" if row.get("cost") is not None else ""
    error = f" {row['error_code']}" if row.get("error_code") else ""
    return (
        f"{row['created_at']} #{row['id']} {row.get('key_name') or '-'} {row['route']}"
        f" {row['interface']} {row['status']} {row['http_status']}{error}"
        f" tokens={row['prompt_tokens']}+{row['completion_tokens']}{cost}"
        f" latency={row['latency_ms']:.0f}ms{ttft} id={row['request_id']}"
    )


def _tool_logs(args: argparse.Namespace, with_admin: WithAdmin) -> int:
    """`logs --tools`: the upstream MCP tool-call audit instead of usage records."""

    async def run(admin: Admin) -> None:
        assert admin.tools is not None
        rows = await admin.tools.tool_calls(
            key=args.key, server=args.server, since=args.since, limit=min(args.limit, 1000)
        )
        print_tool_calls(rows, args.json)

    with_admin(args, run)
    return 0


def _logs(args: argparse.Namespace, with_admin: WithAdmin) -> int:
    if args.tools:
        return _tool_logs(args, with_admin)
    filters = {
        "key": args.key,
        "model": args.model,
        "status": args.status,
        "interface": args.interface,
        "since": args.since,
    }

    def show(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            print(json_line(row) if args.json else _log_line(row), flush=True)

    async def run(admin: Admin) -> None:
        newest = await admin.usage_records(args.limit, **filters)
        rows = list(reversed(newest))  # oldest first, like a log
        if args.json or args.follow:
            show(rows)
        else:
            print(render_table(rows, _LOG_COLUMNS))
        if not args.follow:
            return
        last = rows[-1]["id"] if rows else 0
        while True:
            await asyncio.sleep(args.interval)
            more = await admin.usage_records(args.limit, after_id=last, **filters)
            show(more)
            if more:
                last = more[-1]["id"]

    try:
        with_admin(args, run)
    except KeyboardInterrupt:
        print(file=sys.stderr)
    return 0


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected seconds, e.g. 2") from exc
    if not 0.1 <= seconds <= _FOLLOW_MAX_INTERVAL:
        raise argparse.ArgumentTypeError(f"expected 0.1 to {_FOLLOW_MAX_INTERVAL:g} seconds")
    return seconds


def _limit(value: str) -> int:
    try:
        limit = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected a positive integer") from exc
    if not 1 <= limit <= 10_000:
        raise argparse.ArgumentTypeError("expected 1 to 10000")
    return limit


def add_usage_commands(
    sub: Any, with_admin: WithAdmin, add_db: Callable[[argparse.ArgumentParser], None]
) -> None:
    since_help = "from when: 30m, 24h, 7d, 2026-11-01 or 2026-11-01T12:00 (UTC)"
    stats = sub.add_parser("stats", help="usage statistics: totals, errors, latency, cost")
    stats.add_argument("--by", choices=tuple(REPORT_GROUPS), default="model")
    stats.add_argument("--since", help=since_help)
    output = stats.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output")
    output.add_argument("--csv", action="store_true", help="CSV with a header row")
    add_db(stats)
    stats.set_defaults(func=lambda args: _stats(args, with_admin))

    logs = sub.add_parser("logs", help="recent usage records, oldest first")
    logs.add_argument("--key", help="only this key (by name)")
    logs.add_argument("--model", help="only this model (public name)")
    logs.add_argument("--status", choices=("ok", "error", "cancelled"))
    logs.add_argument("--interface", help="http, anthropic, grpc or mcp")
    logs.add_argument("--since", help=since_help)
    logs.add_argument("--limit", type=_limit, default=50, help="how many (default 50)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new records")
    logs.add_argument(
        "--interval", type=_interval, default=2.0, help="--follow: seconds between polls"
    )
    logs.add_argument("--json", action="store_true", help="one JSON object per line")
    logs.add_argument(
        "--tools", action="store_true", help="upstream MCP tool calls (the audit) instead"
    )
    logs.add_argument("--server", help="--tools: only this MCP server")
    add_db(logs)
    logs.set_defaults(func=lambda args: _logs(args, with_admin))

"""The `lowart` command line: serve, and manage keys, models, usage and the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from lowart._logging import configure_logging
from lowart.accounting import PRICE_COLUMNS
from lowart.admin import Admin
from lowart.auth import QUOTA_PERIODS
from lowart.cli._aliases import add_alias_commands, render_aliases
from lowart.cli._output import print_rows
from lowart.cli._setup import NotSetUp, describe_database, require_setup
from lowart.cli._tools import add_tool_commands
from lowart.cli._usage import add_usage_commands
from lowart.config import Settings
from lowart.errors import GatewayError
from lowart.store import SecretBox, migrate, open_engine
from lowart.transforms import ScriptLimits

__all__ = ["main"]


async def _with_admin(settings: Settings, action: Callable[[Admin], Awaitable[Any]]) -> Any:
    require_setup(settings)
    engine = open_engine(settings.database_url)
    try:
        await migrate(engine)
        secrets = SecretBox.from_settings(settings.secret_key, settings.secret_key_file)
        return await action(Admin.over(engine, settings, secrets))
    finally:
        await engine.dispose()


def _run_with_admin(args: argparse.Namespace, action: Callable[[Admin], Awaitable[Any]]) -> Any:
    return asyncio.run(_with_admin(_settings(args), action))


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=getattr(args, "db", None))


def _serve_settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        database_url=args.db,
        host=args.host,
        port=args.port,
        uds=args.uds,
        grpc=False if args.no_grpc else None,
        grpc_addr=args.grpc,
        grpc_uds=args.grpc_uds,
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from lowart.app import ListenError, serve

    settings = _serve_settings(args)
    configure_logging(args.debug)
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except ListenError as exc:
        print(f"error: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_mcp(args: argparse.Namespace) -> int:
    import os

    from lowart.app import serve_mcp_stdio

    configure_logging(args.debug)
    api_key = args.api_key or os.environ.get("LOWART_API_KEY")
    settings = _settings(args)
    if api_key:  # without one serve_mcp_stdio says how to give it, before any database
        require_setup(settings)
        where = describe_database(settings.database_url)
        print(f"lowart mcp: database {where}", file=sys.stderr)
    return asyncio.run(serve_mcp_stdio(settings, api_key))


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def run() -> None:
        engine = open_engine(settings.database_url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    SecretBox.from_settings(settings.secret_key, settings.secret_key_file)  # created if missing
    print(f"database {describe_database(settings.database_url)} is at the latest revision")
    return 0


def _cmd_keys_create(args: argparse.Namespace) -> int:
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    key, info = asyncio.run(
        _with_admin(
            _settings(args),
            lambda admin: admin.create_key(
                args.name,
                admin=args.admin,
                rpm=args.rpm,
                tpm=args.tpm,
                quota=args.quota,
                models=models,
                concurrency=args.concurrency,
                quota_period=args.quota_period,
                budget=args.budget,
                budget_period=args.budget_period,
                tools=args.tools,
            ),
        )
    )
    kind = "admin key" if info["admin"] else "key"
    print(f"Created {kind} '{info['name']}'. It is shown only now; store it safely:")
    print(key)
    return 0


_KEY_UPDATE_FIELDS = (
    "rpm",
    "tpm",
    "quota",
    "concurrency",
    "quota_period",
    "models",
    "budget",
    "budget_period",
    "tools",
)


def _cmd_keys_update(args: argparse.Namespace) -> int:
    fields = {name: getattr(args, name) for name in _KEY_UPDATE_FIELDS if hasattr(args, name)}
    info = asyncio.run(
        _with_admin(_settings(args), lambda admin: admin.update_key(args.name, **fields))
    )
    limits = ", ".join(
        f"{name}={info[name] if info[name] is not None else 'none'}"
        for name in (
            "rpm",
            "tpm",
            "concurrency",
            "quota_tokens",
            "quota_period",
            "budget",
            "budget_period",
        )
    )
    tools = ",".join(info["tools"]) if info.get("tools") is not None else "all"
    print(f"Updated key '{args.name}': {limits}, tools={tools}.")
    return 0


def _cmd_keys_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keys = asyncio.run(_with_admin(settings, lambda admin: admin.list_keys()))
    print(f"database: {describe_database(settings.database_url)}", file=sys.stderr)
    rows = [
        {
            **row,
            "status": "revoked" if row["revoked_at"] else "active",
            "models": ",".join(row["models"]) if row["models"] else "all",
        }
        for row in keys
    ]
    columns = (
        "name",
        "prefix",
        "admin",
        "status",
        "rpm",
        "tpm",
        "concurrency",
        "quota_tokens",
        "quota_period",
        "used_tokens",
        "budget",
        "budget_period",
        "spent",
        "models",
    )
    print_rows(rows, columns, json_output=args.json, raw=keys)
    return 0


def _cmd_keys_revoke(args: argparse.Namespace) -> int:
    asyncio.run(_with_admin(_settings(args), lambda admin: admin.revoke_key(args.name)))
    print(f"Revoked key '{args.name}'.")
    return 0


def _parse_options(pairs: list[str] | None) -> dict[str, Any] | None:
    if not pairs:
        return None
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise GatewayError(f"--option expects NAME=VALUE, got {pair!r}")
        try:
            options[name] = json.loads(raw)
        except json.JSONDecodeError:
            options[name] = raw
    return options


def _comfyui_options(
    args: argparse.Namespace, options: dict[str, Any] | None
) -> dict[str, Any] | None:
    """`--workflow FILE.json` and `--bind NAME=NODE.inputs.INPUT` become route options."""
    if not args.workflow and not args.bind:
        return options
    options = dict(options or {})
    if args.workflow:
        try:
            with open(args.workflow, encoding="utf-8") as handle:
                options["workflow"] = json.load(handle)
        except OSError as exc:
            raise GatewayError(f"cannot read --workflow {args.workflow}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise GatewayError(f"--workflow {args.workflow} is not valid JSON: {exc}") from exc
    bindings: dict[str, list[str]] = {}
    for pair in args.bind or ():
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise GatewayError(f"--bind expects NAME=NODE.inputs.INPUT, got {pair!r}")
        bindings.setdefault(name.strip(), []).append(path.strip())
    if bindings:
        options["bindings"] = bindings
    return options


def _model_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {
        "base_url": args.base_url,
        "upstream_model": args.upstream_model,
        "api_key": args.api_key,
        "api_key_env": args.api_key_env,
        "options": _comfyui_options(args, _parse_options(args.option)),
    }
    if getattr(args, "vendor", None) is not None:
        fields["vendor"] = args.vendor
    if getattr(args, "enabled", None) is not None:
        fields["enabled"] = args.enabled
    if getattr(args, "weight", None) is not None:
        fields["weight"] = args.weight
    if getattr(args, "kind", None) is not None:
        fields["kind"] = args.kind
    fields = {k: v for k, v in fields.items() if v is not None}
    for name in (*PRICE_COLUMNS, "currency"):  # 'none' (update) removes a price
        if getattr(args, name, None) is not None:
            given = getattr(args, name)
            fields[name] = None if given.lower() in ("none", "table") else given
    if getattr(args, "script", None) is not None:
        fields["script"] = _read_text(args.script)
    elif getattr(args, "no_script", False):
        fields["script"] = None
    return fields


def _warn_if_key_env_unset(args: argparse.Namespace) -> None:
    """--api-key-env names a variable the gateway reads at run time; unset here is suspicious."""
    import os

    variable = getattr(args, "api_key_env", None)
    if variable and variable not in os.environ:
        print(
            f"warning: the environment variable {variable} is not set here; requests to"
            f" '{args.name}' will fail until it is set in the environment of `lowart serve`.",
            file=sys.stderr,
        )


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise GatewayError(f"cannot read {path}: {exc}") from exc


def _cmd_scripts_test(args: argparse.Namespace) -> int:
    from lowart.transforms import try_script

    try:
        payload = json.loads(_read_text(args.payload))
    except json.JSONDecodeError as exc:
        raise GatewayError(f"{args.payload} is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise GatewayError(f"{args.payload} must hold a JSON object.")
    limits = ScriptLimits.from_settings(Settings.from_env())
    result = try_script(_read_text(args.file), payload, args.phase, limits)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if result is None:
        print("(the chunk is dropped)", file=sys.stderr)
    return 0


def _cmd_models_add(args: argparse.Namespace) -> int:
    _warn_if_key_env_unset(args)
    fields = _model_fields(args)
    vendor = fields.pop("vendor")
    model = asyncio.run(
        _with_admin(
            _settings(args), lambda admin: admin.add_model(args.name, vendor=vendor, **fields)
        )
    )
    print(
        f"Added model '{model['name']}' ({model['vendor']} -> {model['upstream_model']}) "
        f"as deployment {model['id']} with weight {model['weight']}."
    )
    return 0


def _cmd_models_update(args: argparse.Namespace) -> int:
    _warn_if_key_env_unset(args)
    fields = _model_fields(args)
    model = asyncio.run(
        _with_admin(
            _settings(args),
            lambda admin: admin.update_model(args.name, args.deployment, **fields),
        )
    )
    print(f"Updated model '{args.name}' (deployment {model['id']}).")
    return 0


def _cmd_models_remove(args: argparse.Namespace) -> int:
    asyncio.run(
        _with_admin(_settings(args), lambda admin: admin.remove_model(args.name, args.deployment))
    )
    which = f"deployment {args.deployment} of " if args.deployment is not None else ""
    print(f"Removed {which}model '{args.name}'.")
    return 0


def _cmd_models_list(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def listing(admin: Admin) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return await admin.list_models(), await admin.routing.list_aliases()

    models, aliases = asyncio.run(_with_admin(settings, listing))
    print(f"database: {describe_database(settings.database_url)}", file=sys.stderr)
    rows = [{**row, "price": _price_text(row.get("price"))} for row in models]
    columns = (
        "id",
        "name",
        "weight",
        "vendor",
        "kind",
        "upstream_model",
        "base_url",
        "api_key",
        "enabled",
        "price",
        "circuit",
    )
    print_rows(rows, columns, json_output=args.json, raw=models)
    if aliases and not args.json:  # `models aliases --json` lists them for programs
        print("\naliases ('*' is the default route):")
        print(render_aliases(aliases))
    return 0


def _price_text(price: dict[str, Any] | None) -> str:
    """`in 2.5 / cached 1.25 / out 10 USD per 1M (table 2025-11-24)` in one cell."""
    if not price:
        return "-"
    parts = [
        f"{label} {price[name]}"
        for name, label in (("input", "in"), ("cached", "cached"), ("output", "out"))
        if price.get(name) is not None
    ]
    text = " / ".join(parts) + " per 1M" if parts else ""
    if price.get("image") is not None:
        text += (", " if text else "") + f"{price['image']} per image"
    origin = f"table {price['as_of']}" if price["source"] == "table" else "route"
    return f"{text} {price['currency']} ({origin})"


def _cmd_fallback_add(args: argparse.Namespace) -> int:
    edge = asyncio.run(
        _with_admin(
            _settings(args),
            lambda admin: admin.routing.add_fallback(args.model, args.fallback, args.priority),
        )
    )
    print(
        f"'{edge['model']}' now falls back to '{edge['fallback']}' (priority {edge['priority']})."
    )
    return 0


def _cmd_fallback_remove(args: argparse.Namespace) -> int:
    asyncio.run(
        _with_admin(
            _settings(args), lambda admin: admin.routing.remove_fallback(args.model, args.fallback)
        )
    )
    print(f"'{args.model}' no longer falls back to '{args.fallback}'.")
    return 0


def _cmd_fallback_list(args: argparse.Namespace) -> int:
    rows = asyncio.run(
        _with_admin(_settings(args), lambda admin: admin.routing.list_fallbacks(args.model))
    )
    print_rows(rows, ("model", "fallback", "priority"), json_output=args.json)
    return 0


def _limit(value: str) -> int | None:
    """A limit on the command line: a positive integer, or `none` to remove it."""
    if value.lower() in ("none", "off", "unlimited"):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected a positive integer or 'none'") from exc


def _model_list(value: str) -> list[str] | None:
    if value.lower() == "all":
        return None
    return [m.strip() for m in value.split(",") if m.strip()]


def _add_fallback_commands(models: Any) -> None:
    fallback = models.add_parser("fallback", help="fallback chains between models").add_subparsers(
        dest="fallback_action", required=True
    )
    add = fallback.add_parser("add", help="MODEL falls back to FALLBACK when it fails")
    add.add_argument("model")
    add.add_argument("fallback")
    add.add_argument("--priority", type=int, default=0, help="lower is tried first (default 0)")
    _add_db(add)
    add.set_defaults(func=_cmd_fallback_add)
    remove = fallback.add_parser("remove", help="remove a fallback edge")
    remove.add_argument("model")
    remove.add_argument("fallback")
    _add_db(remove)
    remove.set_defaults(func=_cmd_fallback_remove)
    listing = fallback.add_parser("list", help="list fallback edges")
    listing.add_argument("model", nargs="?")
    _add_json(listing)
    _add_db(listing)
    listing.set_defaults(func=_cmd_fallback_list)


def _add_key_update_command(keys: Any) -> None:
    update = keys.add_parser("update", help="change a key's limits ('none' removes a limit)")
    update.add_argument("name")
    keep = argparse.SUPPRESS  # an option not given leaves that setting alone
    update.add_argument("--rpm", type=_limit, default=keep, help="requests per minute")
    update.add_argument("--tpm", type=_limit, default=keep, help="tokens per minute")
    update.add_argument("--quota", type=_limit, default=keep, help="token quota")
    update.add_argument("--concurrency", type=_limit, default=keep, help="requests in flight")
    update.add_argument("--quota-period", choices=QUOTA_PERIODS, default=keep)
    update.add_argument("--models", type=_model_list, default=keep, help="a,b or 'all'")
    update.add_argument("--budget", type=_budget, default=keep, help="spending limit or 'none'")
    update.add_argument("--budget-period", choices=QUOTA_PERIODS, default=keep)
    update.add_argument(
        "--tools",
        type=_model_list,
        default=keep,
        help="upstream MCP tools: server.tool patterns, e.g. 'github.*,fs.read_file', or 'all'",
    )
    _add_db(update)
    update.set_defaults(func=_cmd_keys_update)


def _budget(value: str) -> str | None:
    """A budget on the command line: a decimal (checked by the Admin), or `none`."""
    return None if value.lower() in ("none", "off", "unlimited") else value


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: $LOWART_DATABASE_URL or ./lowart.db)")


def _add_model_args(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    from lowart.adapters import VENDORS

    parser.add_argument("--vendor", choices=VENDORS, required=creating)
    parser.add_argument("--base-url", help="upstream API base, e.g. https://api.openai.com/v1")
    parser.add_argument("--upstream-model", help="the vendor's model name (default: NAME)")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--api-key", help="provider key, stored encrypted")
    secret.add_argument("--api-key-env", help="read the provider key from this variable at start")
    parser.add_argument(
        "--option",
        action="append",
        metavar="NAME=VALUE",
        help="vendor or resilience option (JSON value), repeatable",
    )
    parser.add_argument("--workflow", help="comfyui: API-format workflow JSON file")
    parser.add_argument(
        "--bind",
        action="append",
        metavar="NAME=NODE.inputs.INPUT",
        help="comfyui: where a request value goes, e.g. prompt=6.inputs.text (repeatable)",
    )
    parser.add_argument(
        "--weight", type=int, help="share of this name's traffic (default 1; 0 = standby)"
    )
    parser.add_argument(
        "--kind",
        choices=("chat", "embedding", "image"),
        help="what the route serves (default: chat; image for comfyui)",
    )
    prices = (
        ("--price-in", "price_in", "input"),
        ("--price-cached", "price_cached", "cached input"),
        ("--price-out", "price_out", "output"),
    )
    reset = "; 'none' goes back to the shipped table" if not creating else ""
    for flag, dest, what in prices:
        parser.add_argument(
            flag, dest=dest, metavar="PRICE", help=f"per million {what} tokens{reset}"
        )
    parser.add_argument("--price-image", dest="price_image", metavar="PRICE", help="per image")
    parser.add_argument("--currency", help="of this route's prices (default USD)")
    if not creating:
        parser.add_argument("--deployment", type=int, help="the deployment id (see models list)")
    script = parser.add_mutually_exclusive_group()
    script.add_argument("--script", metavar="FILE.lua", help="Lua transform for this route")
    if not creating:
        script.add_argument("--no-script", action="store_true", help="remove the route's script")
    _add_db(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lowart", description="lowart AI API gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP, gRPC and MCP (at /mcp) APIs")
    serve.add_argument("--host", help="TCP host (default 127.0.0.1, $LOWART_HOST)")
    serve.add_argument("--port", type=int, help="TCP port (default 3000, $LOWART_PORT)")
    serve.add_argument("--uds", help="also listen on this Unix socket ($LOWART_UDS)")
    serve.add_argument(
        "--grpc",
        metavar="HOST:PORT",
        help="gRPC address (default 127.0.0.1:50051, $LOWART_GRPC_ADDR)",
    )
    serve.add_argument(
        "--grpc-uds", metavar="PATH", help="also serve gRPC on this Unix socket ($LOWART_GRPC_UDS)"
    )
    serve.add_argument("--no-grpc", action="store_true", help="do not serve gRPC")
    serve.add_argument("--debug", action="store_true", help="debug logging")
    _add_db(serve)
    serve.set_defaults(func=_cmd_serve)

    mcp = sub.add_parser("mcp", help="serve MCP over stdio (for agents that launch lowart)")
    mcp.add_argument("--api-key", help="the API key the agent acts as (default: $LOWART_API_KEY)")
    mcp.add_argument("--debug", action="store_true", help="debug logging (to stderr)")
    _add_db(mcp)
    mcp.set_defaults(func=_cmd_mcp)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True
    )
    create = keys.add_parser("create", help="create a key (printed once, on the last line)")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true", help="may use the admin API")
    create.add_argument("--rpm", type=int, help="requests per minute")
    create.add_argument("--tpm", type=int, help="tokens per minute")
    create.add_argument("--quota", type=int, help="total token quota")
    create.add_argument("--models", help="comma-separated models this key may use (default: all)")
    create.add_argument("--concurrency", type=int, help="requests in flight at once")
    create.add_argument(
        "--quota-period", choices=QUOTA_PERIODS, default="total", help="quota window (UTC)"
    )
    create.add_argument("--budget", help="spending limit, e.g. 10.00 (the routes' currency)")
    create.add_argument(
        "--budget-period", choices=QUOTA_PERIODS, default="total", help="budget window (UTC)"
    )
    create.add_argument(
        "--tools",
        type=_model_list,
        help="upstream MCP tools it may use: server.tool patterns, e.g. 'github.*' (default: all)",
    )
    _add_db(create)
    create.set_defaults(func=_cmd_keys_create)
    _add_key_update_command(keys)
    listing = keys.add_parser("list", help="list keys (never the keys themselves)")
    _add_json(listing)
    _add_db(listing)
    listing.set_defaults(func=_cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("name")
    _add_db(revoke)
    revoke.set_defaults(func=_cmd_keys_revoke)

    models = sub.add_parser("models", help="manage model routes").add_subparsers(
        dest="action", required=True
    )
    add = models.add_parser("add", help="add a model route (same name again: one more deployment)")
    add.add_argument("name")
    _add_model_args(add, creating=True)
    add.set_defaults(func=_cmd_models_add)
    update = models.add_parser("update", help="change a model route")
    update.add_argument("name")
    _add_model_args(update, creating=False)
    toggle = update.add_mutually_exclusive_group()
    toggle.add_argument("--enable", dest="enabled", action="store_true", default=None)
    toggle.add_argument("--disable", dest="enabled", action="store_false")
    update.set_defaults(func=_cmd_models_update)
    remove = models.add_parser("remove", help="remove a model route (all its deployments)")
    remove.add_argument("name")
    remove.add_argument("--deployment", type=int, help="remove only this deployment")
    _add_db(remove)
    remove.set_defaults(func=_cmd_models_remove)
    mlist = models.add_parser("list", help="list model routes")
    _add_json(mlist)
    _add_db(mlist)
    mlist.set_defaults(func=_cmd_models_list)
    _add_fallback_commands(models)
    add_alias_commands(models, _with_admin, _settings, _add_db)

    add_usage_commands(sub, _run_with_admin, _add_db)
    add_tool_commands(sub, _run_with_admin, _add_db)

    scripts = sub.add_parser("scripts", help="Lua transforms").add_subparsers(
        dest="action", required=True
    )
    test = scripts.add_parser("test", help="print what a script makes of a payload")
    test.add_argument("file", metavar="FILE.lua")
    test.add_argument("--payload", required=True, metavar="SAMPLE.json")
    test.add_argument("--phase", choices=("request", "response", "chunk"), default="request")
    test.set_defaults(func=_cmd_scripts_test)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="action", required=True
    )
    upgrade = db.add_parser("upgrade", help="apply migrations (alembic upgrade head)")
    _add_db(upgrade)
    upgrade.set_defaults(func=_cmd_db_upgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except GatewayError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except NotSetUp as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # start-up: the database cannot be opened or read
        reason = _first_line(exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc)
        print(f"error: the database cannot be used: {reason}", file=sys.stderr)
        return 1
    except OSError as exc:  # start-up: a socket, a file or a directory
        print(f"error: {_first_line(exc)}", file=sys.stderr)
        return 1


def _first_line(exc: BaseException) -> str:
    """An exception in one line: its first, without SQLAlchemy's background links."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]

"""The Admin service: configuration, keys and usage queries, for the CLI and admin APIs.

Every surface (CLI, admin HTTP API, MCP catalogue) calls these operations, so a
key or model made any way is validated and stored identically, and none of
them ever returns a stored secret. Each operation applies its own side
effects: a configuration write is applied to this process at once
(`changed`, e.g. the serving process's caches; other processes notice the
bumped configuration version), and a usage query first writes the usage rows
queued before it (`flush_usage`), so it sees every request that finished.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart.accounting import PRICE_COLUMNS
from lowart.adapters import VENDORS
from lowart.adapters.comfyui import check_comfyui_options
from lowart.admin._checks import (
    KEY_LIMITS,
    MODEL_FIELDS,
    VENDOR_KINDS,
    check_budget,
    check_currency_field,
    check_flag,
    check_kind,
    check_limit,
    check_models,
    check_name,
    check_period,
    check_price_field,
    check_text,
    parse_moment,
    parse_since,
)
from lowart.admin._explore import UsageExplorer
from lowart.admin._public import money, public_key, public_model
from lowart.admin._routing import RoutingAdmin, check_weight
from lowart.admin._tool_checks import check_tool_patterns
from lowart.admin._tools import ToolsAdmin
from lowart.auth import generate_key, hash_key, key_display_prefix, quota_window
from lowart.config import DEFAULT_API_KEY_ENV_ALLOW, Settings, api_key_env_refusal
from lowart.errors import InvalidRequest, NotFound, PermissionDenied
from lowart.routing import validate_policy_options
from lowart.store import (
    AliasStore,
    DuplicateName,
    FallbackStore,
    HealthStore,
    KeyStore,
    McpServerStore,
    ModelStore,
    SecretBox,
    ToolCallStore,
    ToolPolicyStore,
    UsageFilter,
    UsageStore,
)
from lowart.transforms import ScriptLimits, check_script, dry_run_script
from lowart.types import Principal

__all__ = ["Admin"]

_USAGE_RECORDS_MAX = 10_000


async def _nothing() -> None:
    """No process to apply a change to (the CLI): serving processes poll the version."""


class Admin:
    def __init__(
        self,
        keys: KeyStore,
        models: ModelStore,
        usage: UsageStore,
        secrets: SecretBox,
        *,
        fallbacks: FallbackStore | None = None,
        health: HealthStore | None = None,
        script_limits: ScriptLimits | None = None,
        api_key_env_allow: Sequence[str] = DEFAULT_API_KEY_ENV_ALLOW,
        changed: Callable[[], Awaitable[None]] = _nothing,
        flush_usage: Callable[[], Awaitable[None]] = _nothing,
        live_circuit: Callable[[int], str | None] | None = None,
        reset_circuit: Callable[[int], bool] | None = None,
        aliases: AliasStore | None = None,
        tools: ToolsAdmin | None = None,
    ) -> None:
        self.keys = keys
        self.models = models
        self.usage = usage
        self._secrets = secrets
        self._changed = changed
        self._flush_usage = flush_usage
        self._live_circuit = live_circuit
        self._reset_circuit = reset_circuit
        self._health = health
        self.routing = RoutingAdmin(models, fallbacks, health, changed, aliases)
        self.explore = UsageExplorer(usage.search(), flush_usage)
        self._script_limits = script_limits
        self._api_key_env_allow = tuple(api_key_env_allow)
        self.tools = tools
        """The MCP gateway's registry, policies and audit (None: not configured here)."""

    @classmethod
    def over(
        cls,
        engine: AsyncEngine,
        settings: Settings,
        secrets: SecretBox,
        **effects: Any,
    ) -> Admin:
        """The Admin of one database as the settings configure it; `effects` are what
        applies its writes to a serving process (none for the CLI)."""
        flush_calls = effects.pop("flush_tool_calls", _nothing)
        tools = ToolsAdmin(
            McpServerStore(engine),
            ToolPolicyStore(engine),
            ToolCallStore(engine),
            KeyStore(engine),
            secrets,
            default_policy=settings.tool_default_policy,
            changed=effects.get("changed", _nothing),
            flush_calls=flush_calls,
        )
        return cls(
            KeyStore(engine),
            ModelStore(engine),
            UsageStore(engine),
            secrets,
            fallbacks=FallbackStore(engine),
            health=HealthStore(engine),
            aliases=AliasStore(engine),
            script_limits=ScriptLimits.from_settings(settings),
            api_key_env_allow=settings.api_key_env_allow,
            tools=tools,
            **effects,
        )

    @staticmethod
    def require_admin(principal: Principal) -> None:
        """Admin operations over a network surface are for admin keys only."""
        if not principal.is_admin:
            raise PermissionDenied("This operation needs an admin key.")

    async def create_key(
        self,
        name: object,
        *,
        admin: object = False,
        rpm: object = None,
        tpm: object = None,
        quota: object = None,
        models: object = None,
        concurrency: object = None,
        quota_period: object = "total",
        budget: object = None,
        budget_period: object = "total",
        tools: object = None,
    ) -> tuple[str, dict[str, Any]]:
        """Create a key; the returned key string is the only time it exists in clear.

        The values are checked here (they may come straight from a JSON body)."""
        name = check_name("key", name)
        allowed = check_models(models)
        allowed_tools = check_tool_patterns(tools)
        key = generate_key()
        try:
            row = await self.keys.create(
                name=name,
                key_hash=hash_key(key),
                key_prefix=key_display_prefix(key),
                is_admin=check_flag("admin", admin),
                rpm=check_limit("rpm", rpm),
                tpm=check_limit("tpm", tpm),
                quota_tokens=check_limit("quota", quota),
                max_concurrency=check_limit("concurrency", concurrency),
                quota_period=check_period(quota_period or "total"),
                budget=check_budget(budget),
                budget_period=check_period(budget_period or "total", "budget_period"),
                allowed_models=allowed,
                allowed_tools=orjson.dumps(allowed_tools).decode()
                if allowed_tools is not None
                else None,
            )
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        await self._changed()
        return key, public_key(row, await self._spent_by_key([row]))

    async def list_keys(self) -> list[dict[str, Any]]:
        """Every key with what it spent in its budget's window (total without a budget)."""
        rows = await self.keys.list()
        spent = await self._spent_by_key(rows)
        return [public_key(row, spent) for row in rows]

    async def _spent_by_key(self, rows: list[dict[str, Any]]) -> dict[int, Any]:
        """Spending per key id, one query per budget period in use; the usage rows still
        queued are written first, so a request that finished is always counted."""
        await self._flush_usage()
        spent: dict[int, Any] = {}
        for period in {row.get("budget_period") or "total" for row in rows}:
            since = quota_window(period).start
            by_key = await self.usage.spent_by_key(since)
            for row in rows:
                if (row.get("budget_period") or "total") == period:
                    spent[row["id"]] = by_key.get(row["id"], 0)
        return spent

    async def update_key(self, name: str, **fields: Any) -> dict[str, Any]:
        """Change a key's limits: a field given as None removes that limit (models: all)."""
        unknown = set(fields) - {
            *KEY_LIMITS,
            "quota_period",
            "models",
            "budget",
            "budget_period",
            "tools",
        }
        if unknown:
            raise InvalidRequest(f"Unknown key field(s): {', '.join(sorted(unknown))}.")
        values: dict[str, Any] = {}
        for field, column in KEY_LIMITS.items():
            if field in fields:
                values[column] = check_limit(field, fields[field])
        if "quota_period" in fields:
            values["quota_period"] = check_period(fields["quota_period"] or "total")
        if "models" in fields:
            values["allowed_models"] = check_models(fields["models"])
        if "tools" in fields:
            allowed_tools = check_tool_patterns(fields["tools"])
            values["allowed_tools"] = (
                orjson.dumps(allowed_tools).decode() if allowed_tools is not None else None
            )
        if "budget" in fields:
            values["budget"] = check_budget(fields["budget"])
        if "budget_period" in fields:
            values["budget_period"] = check_period(
                fields["budget_period"] or "total", "budget_period"
            )
        if not values:
            raise InvalidRequest("Nothing to update.")
        if not await self.keys.update(name, values):
            raise NotFound(f"No key named '{name}'.")
        await self._changed()
        rows = [row for row in await self.keys.list() if row["name"] == name]
        return public_key(rows[0], await self._spent_by_key(rows))

    async def account(self, principal: Principal) -> dict[str, Any]:
        """What a key may see of itself: its limits, what it used of its quota and what
        it spent of its budget (`spent`, in the budget's window) now.

        The one key operation open to non-admin keys (the dashboard's self-service view)."""
        rows = [row for row in await self.keys.list() if row["id"] == principal.key_id]
        if not rows:
            raise NotFound("This key no longer exists.")
        info = public_key(rows[0], await self._spent_by_key(rows))  # flushes the writer
        window = quota_window(info["quota_period"])
        info["quota_used"] = await self.usage.used_tokens(principal.key_id, window.start)
        info["quota_resets_in"] = window.seconds_left
        return info

    async def revoke_key(self, name: str) -> None:
        if not await self.keys.revoke(name):
            raise NotFound(f"No active key named '{name}'.")
        await self._changed()

    async def add_model(self, name: str, *, vendor: str, **fields: Any) -> dict[str, Any]:
        check_name("model", name)
        if vendor == "comfyui":  # workflow and bindings are checked now, not on first use
            fields["options"] = check_comfyui_options(fields.get("options"))
            fields.setdefault("base_url", "http://127.0.0.1:8188")
        values = self._model_values({"vendor": vendor, **fields}, creating=True, vendor=vendor)
        values.setdefault("upstream_model", name)
        try:
            row = await self.models.add({"name": name, **values})
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        await self._changed()
        return public_model(row)

    async def update_model(
        self, name: str, deployment: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change one deployment; `deployment` (its id) is needed when `name` has several."""
        target = await self.routing.deployment(name, deployment)
        if fields.get("options") is not None or fields.get("vendor") == "comfyui":
            if fields.get("vendor", target.get("vendor")) == "comfyui":
                stored = orjson.loads(target.get("options") or "{}")
                given = fields.get("options") or {}
                merged = {**stored, **given} if isinstance(given, dict) else given
                fields["options"] = check_comfyui_options(merged)
        vendor = fields.get("vendor") or target.get("vendor")
        values = self._model_values(fields, creating=False, vendor=vendor)
        if not values:
            raise InvalidRequest("Nothing to update.")
        await self.models.update(name, values, target["id"])
        await self._changed()
        row = await self.models.get_by_id(target["id"])
        if row is None:  # removed by someone else in between
            raise NotFound(f"No model named '{name}'.")
        return public_model(row)

    async def remove_model(self, name: str, deployment: int | None = None) -> None:
        """Remove one deployment by id, or every deployment of `name` (and its fallbacks)."""
        if deployment is not None:
            await self.routing.deployment(name, deployment)
        if not await self.models.remove(name, deployment):
            raise NotFound(f"No model named '{name}'.")
        await self._changed()

    async def list_models(self) -> list[dict[str, Any]]:
        """Every deployment with its circuit: this process's live breaker where it has
        one, else the state last published by any process."""
        rows = await self.routing.with_circuits(
            [public_model(row) for row in await self.models.list()]
        )
        if self._live_circuit is not None:
            for row in rows:
                live = self._live_circuit(row["id"])
                if live is not None:
                    row["circuit"] = live
        return rows

    async def reset_circuit(self, name: str, deployment: int | None = None) -> list[dict[str, Any]]:
        """Close the circuit of one deployment (or of every deployment of `name`): this
        process's breaker and the state published for the others. Another serving
        process keeps its own breaker until its cool-down ends or it is reset there."""
        rows = (
            [await self.routing.deployment(name, deployment)]
            if deployment is not None
            else await self.models.deployments(name)
        )
        if not rows:
            raise NotFound(f"No model named '{name}'.")
        for row in rows:
            reset_here = self._reset_circuit is not None and self._reset_circuit(row["id"])
            if not reset_here and self._health is not None:
                await self._health.publish(row["id"], "closed", 0, 0, None)
        ids = {row["id"] for row in rows}
        return [m for m in await self.list_models() if m["id"] in ids]

    def dry_run_script(self, script: object, vendor: object = "openai") -> list[dict[str, Any]]:
        """What a script would make of sample payloads of `vendor`, without saving it;
        a script that fails is the same InvalidRequest saving it would raise."""
        if vendor not in VENDORS:
            raise InvalidRequest(f"Unknown vendor {vendor!r}.", param="vendor")
        return dry_run_script(script, self._script_limits, str(vendor))

    def _model_values(
        self, fields: dict[str, Any], *, creating: bool, vendor: str | None = None
    ) -> dict[str, Any]:
        """Checked column values; `vendor` picks the format a script is dry-run against."""
        unknown = set(fields) - set(MODEL_FIELDS)
        if unknown:
            raise InvalidRequest(f"Unknown model field(s): {', '.join(sorted(unknown))}.")
        values: dict[str, Any] = {}
        if "vendor" in fields:
            if fields["vendor"] not in VENDORS:
                raise InvalidRequest(
                    f"Unknown vendor {fields['vendor']!r}; use one of {', '.join(VENDORS)}.",
                    param="vendor",
                )
            values["vendor"] = fields["vendor"]
        for name in ("base_url", "upstream_model", "api_key_env"):
            if name in fields and fields[name] is not None:
                values[name] = check_text(name, fields[name])
        if values.get("api_key_env"):
            refusal = api_key_env_refusal(values["api_key_env"], self._api_key_env_allow)
            if refusal is not None:
                raise InvalidRequest(refusal, param="api_key_env")
        base_url = values.get("base_url")
        if base_url and not re.match(r"^https?://[^\s/]+", base_url):
            raise InvalidRequest("'base_url' must be an http(s) URL.", param="base_url")
        if fields.get("api_key") is not None:
            values["api_key_encrypted"] = self._secrets.encrypt(
                check_text("api_key", fields["api_key"])
            )
            values["api_key_env"] = None
        elif values.get("api_key_env"):
            values["api_key_encrypted"] = None
        if fields.get("options") is not None:
            if not isinstance(fields["options"], dict):
                raise InvalidRequest("'options' must be an object.", param="options")
            values["options"] = orjson.dumps(fields["options"]).decode()
        if fields.get("options") is not None:
            validate_policy_options(fields["options"])
        if fields.get("enabled") is not None:
            values["enabled"] = check_flag("enabled", fields["enabled"])
        if fields.get("weight") is not None:
            values["weight"] = check_weight(fields["weight"])
        for column in PRICE_COLUMNS:  # null removes a rate (then the shipped table applies)
            if column in fields:
                values[column] = check_price_field(column, fields[column])
        if "currency" in fields:
            values["currency"] = check_currency_field(fields["currency"])
        if "script" in fields:  # null removes the script
            script = fields["script"]
            values["script"] = (
                None
                if script is None
                else check_script(script, self._script_limits, vendor or "openai")
            )
        if fields.get("kind") is not None or fields.get("vendor") is not None:
            # a new route, or one whose vendor changes, serves that vendor's first kind
            kind = fields.get("kind") or VENDOR_KINDS.get(vendor or "", ("chat",))[0]
            values["kind"] = check_kind(kind, vendor)
        if creating and values.get("vendor") == "openai" and not values.get("base_url"):
            values["base_url"] = "https://api.openai.com/v1"
        return values

    async def usage_summary(
        self, by: str = "model", since: str | None = None, key_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Usage grouped by `by` (see `usage_report`), the groups only."""
        groups: list[dict[str, Any]] = (await self.usage_report(by, since, key_id))["data"]
        return groups

    async def usage_report(
        self, by: str = "model", since: str | None = None, key_id: int | None = None
    ) -> dict[str, Any]:
        """Usage grouped by model, key, day, hour, interface or vendor, and in total:
        requests, errors, error rate, tokens, cost, p50/p95 latency and time to first
        token, JSON-ready; `key_id` narrows it to one key's own records."""
        where = UsageFilter(since=parse_moment(since), key_id=key_id)
        await self._flush_usage()
        try:
            groups, total = await self.usage.report(by, where)
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="by") from exc
        for row in (*groups, total):
            row["cost"] = money(row["cost"])
        return {"data": groups, "total": total}

    async def usage_daily(
        self, by: str = "model", since: str | None = None, key_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Totals from the daily rollups, which outlive the raw records' retention."""
        since_date = parse_since(since)
        await self._flush_usage()
        try:
            rows = await self.usage.summary(by=by, since=since_date, key_id=key_id)
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="by") from exc
        for row in rows:
            row["cost"] = money(row.get("cost"))
        return rows

    async def usage_records(
        self,
        limit: int = 100,
        *,
        key: str | None = None,
        model: str | None = None,
        status: str | None = None,
        interface: str | None = None,
        since: str | None = None,
        after_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Raw usage records (at most 10,000), JSON-ready, filtered by key name, model,
        status, interface and start; newest first, or with `after_id` the next ones
        after that record, oldest first (`lowart logs --follow`)."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidRequest("'limit' must be a positive integer.", param="limit")
        if after_id is not None and (not isinstance(after_id, int) or isinstance(after_id, bool)):
            raise InvalidRequest("'after' must be a record id.", param="after")
        where = UsageFilter(
            since=parse_moment(since),
            key_name=key,
            route=model,
            status=status,
            interface=interface,
        )
        await self._flush_usage()
        rows = await self.usage.records(
            limit=min(limit, _USAGE_RECORDS_MAX), where=where, after_id=after_id
        )
        for row in rows:
            row["created_at"] = row["created_at"].isoformat()
            row["extra"] = orjson.loads(row["extra"]) if row["extra"] else None
            row["cost"] = money(row["cost"])
        return rows

"""Configuration operations shared by the CLI and the admin HTTP API.

Both surfaces call these functions, so a key or model made either way is
validated and stored identically; neither ever returns a stored secret.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson

from lowart._routing_admin import RoutingAdmin, check_weight
from lowart.adapters import VENDORS
from lowart.adapters.comfyui import check_comfyui_options
from lowart.auth import QUOTA_PERIODS, generate_key, hash_key, key_display_prefix
from lowart.errors import InvalidRequest, NotFound
from lowart.routing import validate_policy_options
from lowart.store import (
    DuplicateName,
    FallbackStore,
    HealthStore,
    KeyStore,
    ModelStore,
    SecretBox,
    UsageStore,
)
from lowart.transforms import ScriptLimits, check_script

__all__ = ["Admin", "parse_since"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$")
_MODEL_FIELDS = (
    "vendor",
    "base_url",
    "upstream_model",
    "api_key",
    "api_key_env",
    "options",
    "enabled",
    "weight",
    "script",
)
_KEY_LIMITS = {
    "rpm": "rpm",
    "tpm": "tpm",
    "quota": "quota_tokens",
    "concurrency": "max_concurrency",
}


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidRequest(
            f"Invalid {kind} name {name!r}: use letters, digits and . _ : / @ - (at most 200).",
            param="name",
        )
    return name


def _check_limit(name: str, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequest(f"'{name}' must be a positive integer.", param=name)
    return value


def _check_period(value: object) -> str:
    if value not in QUOTA_PERIODS:
        raise InvalidRequest(
            f"'quota_period' must be one of {', '.join(QUOTA_PERIODS)}.", param="quota_period"
        )
    return str(value)


def _check_models(models: object) -> str | None:
    if models is None:
        return None
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise InvalidRequest("'models' must be a list of model names.", param="models")
    return orjson.dumps(models).decode()


def parse_since(value: str | None) -> date | None:
    """`2026-11-01`, or a relative `7d` / `24h` (rounded down to a day)."""
    if not value:
        return None
    match = re.fullmatch(r"(\d+)([dh])", value.strip())
    if match:
        amount, unit = int(match[1]), match[2]
        days = amount if unit == "d" else amount / 24
        return date.fromordinal(datetime.now(UTC).date().toordinal() - int(days))
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(f"Invalid 'since' {value!r}: use YYYY-MM-DD or e.g. 7d.") from exc


def _public_key(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "prefix": row["key_prefix"],
        "admin": bool(row["is_admin"]),
        "rpm": row["rpm"],
        "tpm": row["tpm"],
        "quota_tokens": row["quota_tokens"],
        "quota_period": row.get("quota_period") or "total",
        "concurrency": row.get("max_concurrency"),
        "used_tokens": int(row.get("used_tokens") or 0),
        "models": orjson.loads(row["allowed_models"]) if row.get("allowed_models") else None,
        "created_at": _iso(row["created_at"]),
        "revoked_at": _iso(row.get("revoked_at")),
    }


def _public_model(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("api_key_encrypted"):
        api_key = "stored (encrypted)"
    elif row.get("api_key_env"):
        api_key = f"from ${row['api_key_env']}"
    else:
        api_key = None
    return {
        "id": row["id"],
        "name": row["name"],
        "weight": int(row.get("weight", 1)),
        "vendor": row["vendor"],
        "base_url": row["base_url"],
        "upstream_model": row["upstream_model"],
        "api_key": api_key,
        "options": orjson.loads(row["options"] or "{}"),
        "enabled": bool(row["enabled"]),
        "script": bool(row.get("script")),
        "script_version": int(row.get("script_version") or 0),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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
    ) -> None:
        self.keys = keys
        self.models = models
        self.usage = usage
        self._secrets = secrets
        self.routing = RoutingAdmin(models, fallbacks, health)
        self._script_limits = script_limits

    async def create_key(
        self,
        name: str,
        *,
        admin: bool = False,
        rpm: int | None = None,
        tpm: int | None = None,
        quota: int | None = None,
        models: list[str] | None = None,
        concurrency: int | None = None,
        quota_period: str = "total",
    ) -> tuple[str, dict[str, Any]]:
        """Create a key; the returned key string is the only time it exists in clear."""
        _check_name("key", name)
        allowed = _check_models(models)
        key = generate_key()
        try:
            row = await self.keys.create(
                name=name,
                key_hash=hash_key(key),
                key_prefix=key_display_prefix(key),
                is_admin=bool(admin),
                rpm=_check_limit("rpm", rpm),
                tpm=_check_limit("tpm", tpm),
                quota_tokens=_check_limit("quota", quota),
                max_concurrency=_check_limit("concurrency", concurrency),
                quota_period=_check_period(quota_period or "total"),
                allowed_models=allowed,
            )
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        return key, _public_key(row)

    async def list_keys(self) -> list[dict[str, Any]]:
        return [_public_key(row) for row in await self.keys.list()]

    async def update_key(self, name: str, **fields: Any) -> dict[str, Any]:
        """Change a key's limits: a field given as None removes that limit (models: all)."""
        unknown = set(fields) - {*_KEY_LIMITS, "quota_period", "models"}
        if unknown:
            raise InvalidRequest(f"Unknown key field(s): {', '.join(sorted(unknown))}.")
        values: dict[str, Any] = {}
        for field, column in _KEY_LIMITS.items():
            if field in fields:
                values[column] = _check_limit(field, fields[field])
        if "quota_period" in fields:
            values["quota_period"] = _check_period(fields["quota_period"] or "total")
        if "models" in fields:
            values["allowed_models"] = _check_models(fields["models"])
        if not values:
            raise InvalidRequest("Nothing to update.")
        if not await self.keys.update(name, values):
            raise NotFound(f"No key named '{name}'.")
        rows = [row for row in await self.keys.list() if row["name"] == name]
        return _public_key(rows[0])

    async def revoke_key(self, name: str) -> None:
        if not await self.keys.revoke(name):
            raise NotFound(f"No active key named '{name}'.")

    async def add_model(self, name: str, *, vendor: str, **fields: Any) -> dict[str, Any]:
        _check_name("model", name)
        if vendor == "comfyui":  # workflow and bindings are checked now, not on first use
            fields["options"] = check_comfyui_options(fields.get("options"))
            fields.setdefault("base_url", "http://127.0.0.1:8188")
        values = self._model_values({"vendor": vendor, **fields}, creating=True, vendor=vendor)
        values.setdefault("upstream_model", name)
        try:
            row = await self.models.add({"name": name, **values})
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        return _public_model(row)

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
        return _public_model(await self.models.get_by_id(target["id"]))

    async def remove_model(self, name: str, deployment: int | None = None) -> None:
        """Remove one deployment by id, or every deployment of `name` (and its fallbacks)."""
        if deployment is not None:
            await self.routing.deployment(name, deployment)
        if not await self.models.remove(name, deployment):
            raise NotFound(f"No model named '{name}'.")

    async def list_models(self) -> list[dict[str, Any]]:
        rows = [_public_model(row) for row in await self.models.list()]
        return await self.routing.with_circuits(rows)

    def _model_values(
        self, fields: dict[str, Any], *, creating: bool, vendor: str | None = None
    ) -> dict[str, Any]:
        """Checked column values; `vendor` picks the format a script is dry-run against."""
        unknown = set(fields) - set(_MODEL_FIELDS)
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
                if not isinstance(fields[name], str):
                    raise InvalidRequest(f"'{name}' must be a string.", param=name)
                values[name] = fields[name]
        base_url = values.get("base_url")
        if base_url and not re.match(r"^https?://[^\s/]+", base_url):
            raise InvalidRequest("'base_url' must be an http(s) URL.", param="base_url")
        if fields.get("api_key") is not None:
            if not isinstance(fields["api_key"], str):
                raise InvalidRequest("'api_key' must be a string.", param="api_key")
            values["api_key_encrypted"] = self._secrets.encrypt(fields["api_key"])
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
            values["enabled"] = bool(fields["enabled"])
        if fields.get("weight") is not None:
            values["weight"] = check_weight(fields["weight"])
        if "script" in fields:  # null removes the script
            script = fields["script"]
            values["script"] = (
                None
                if script is None
                else check_script(script, self._script_limits, vendor or "openai")
            )
        if creating and values.get("vendor") == "openai" and not values.get("base_url"):
            values["base_url"] = "https://api.openai.com/v1"
        return values

    async def usage_summary(
        self, by: str = "model", since: str | None = None, key_id: int | None = None
    ) -> list[dict[str, Any]]:
        try:
            return await self.usage.summary(by=by, since=parse_since(since), key_id=key_id)
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="by") from exc

"""Configuration operations shared by the CLI and the admin HTTP API.

Both surfaces call these functions, so a key or model made either way is
validated and stored identically; neither ever returns a stored secret.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson

from lowart.adapters import VENDORS
from lowart.auth import generate_key, hash_key, key_display_prefix
from lowart.errors import InvalidRequest, NotFound
from lowart.store import DuplicateName, KeyStore, ModelStore, SecretBox, UsageStore
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
    "script",
)


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
        "name": row["name"],
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
        script_limits: ScriptLimits | None = None,
    ) -> None:
        self.keys = keys
        self.models = models
        self.usage = usage
        self._secrets = secrets
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
    ) -> tuple[str, dict[str, Any]]:
        """Create a key; the returned key string is the only time it exists in clear."""
        _check_name("key", name)
        if models is not None and (
            not isinstance(models, list) or not all(isinstance(m, str) for m in models)
        ):
            raise InvalidRequest("'models' must be a list of model names.", param="models")
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
                allowed_models=orjson.dumps(models).decode() if models is not None else None,
            )
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        return key, _public_key(row)

    async def list_keys(self) -> list[dict[str, Any]]:
        return [_public_key(row) for row in await self.keys.list()]

    async def revoke_key(self, name: str) -> None:
        if not await self.keys.revoke(name):
            raise NotFound(f"No active key named '{name}'.")

    async def add_model(self, name: str, *, vendor: str, **fields: Any) -> dict[str, Any]:
        _check_name("model", name)
        values = self._model_values({"vendor": vendor, **fields}, creating=True)
        values.setdefault("upstream_model", name)
        try:
            row = await self.models.add({"name": name, **values})
        except DuplicateName as exc:
            raise InvalidRequest(str(exc), param="name", code="duplicate_name") from exc
        return _public_model(row)

    async def update_model(self, name: str, **fields: Any) -> dict[str, Any]:
        values = self._model_values(fields, creating=False)
        if not values:
            raise InvalidRequest("Nothing to update.")
        if not await self.models.update(name, values):
            raise NotFound(f"No model named '{name}'.")
        return _public_model(await self.models.get(name))

    async def remove_model(self, name: str) -> None:
        if not await self.models.remove(name):
            raise NotFound(f"No model named '{name}'.")

    async def list_models(self) -> list[dict[str, Any]]:
        return [_public_model(row) for row in await self.models.list()]

    def _model_values(self, fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
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
        if fields.get("enabled") is not None:
            values["enabled"] = bool(fields["enabled"])
        if "script" in fields:  # null removes the script
            script = fields["script"]
            values["script"] = None if script is None else check_script(script, self._script_limits)
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

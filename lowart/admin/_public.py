"""What an admin sees of a stored key or model: never a secret, never a hash."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from lowart.accounting import price_table, route_price

__all__ = ["money", "public_key", "public_model", "without_credentials"]


def money(value: Decimal | int | None) -> str | None:
    """An exact amount as JSON-safe text without trailing zeros ("0.0125", "10")."""
    if value is None:
        return None
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def public_key(row: dict[str, Any], spent: Mapping[int, Any] | None = None) -> dict[str, Any]:
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
        "budget": money(row.get("budget")),
        "budget_period": row.get("budget_period") or "total",
        "spent": money((spent or {}).get(row["id"], 0)),
        "models": orjson.loads(row["allowed_models"]) if row.get("allowed_models") else None,
        "tools": orjson.loads(row["allowed_tools"]) if row.get("allowed_tools") else None,
        "created_at": _iso(row["created_at"]),
        "revoked_at": _iso(row.get("revoked_at")),
    }


def public_model(row: dict[str, Any]) -> dict[str, Any]:
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
        "kind": row.get("kind") or "chat",
        "base_url": without_credentials(row["base_url"]),
        "upstream_model": row["upstream_model"],
        "api_key": api_key,
        "options": orjson.loads(row["options"] or "{}"),
        "enabled": bool(row["enabled"]),
        "script": bool(row.get("script")),
        "script_version": int(row.get("script_version") or 0),
        "price": _price(row),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _price(row: dict[str, Any]) -> dict[str, Any] | None:
    """The rates calls are billed at: the route's own, or the shipped table's (dated)."""
    price = route_price(row)
    if price is None:
        return None
    shown: dict[str, Any] = {
        "input": money(price.input),
        "cached": money(price.cached),
        "output": money(price.output),
        "image": money(price.image),
        "currency": price.currency,
        "source": price.source,
    }
    if price.source == "table":
        shown["as_of"] = price_table().as_of
    return shown


def without_credentials(url: str | None) -> str | None:
    """A base URL as shown: `user:pass@` (credentials in the URL) becomes `***@`."""
    if not url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL hidden)"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

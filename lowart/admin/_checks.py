"""Checks on what an admin sends, shared by every admin operation (CLI and API alike)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

import orjson

from lowart.auth import QUOTA_PERIODS
from lowart.errors import InvalidRequest

__all__ = [
    "KEY_LIMITS",
    "MODEL_FIELDS",
    "MODEL_KINDS",
    "VENDOR_KINDS",
    "check_flag",
    "check_kind",
    "check_limit",
    "check_models",
    "check_name",
    "check_period",
    "check_text",
    "parse_since",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$")
MODEL_FIELDS = (
    "vendor",
    "base_url",
    "upstream_model",
    "api_key",
    "api_key_env",
    "options",
    "enabled",
    "weight",
    "script",
    "kind",
)
MODEL_KINDS = ("chat", "embedding", "image")
# The kinds each vendor can serve; the first is a new route's default.
VENDOR_KINDS = {
    "openai": ("chat", "embedding"),
    "mock": ("chat", "embedding"),
    "anthropic": ("chat",),
    "comfyui": ("image",),
}
KEY_LIMITS = {
    "rpm": "rpm",
    "tpm": "tpm",
    "quota": "quota_tokens",
    "concurrency": "max_concurrency",
}


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidRequest(
            f"Invalid {kind} name {name!r}: use letters, digits and . _ : / @ - (at most 200).",
            param="name",
        )
    return name


def check_flag(name: str, value: object) -> bool:
    """A JSON boolean, nothing truthy: the string "false" must not make an admin key."""
    if not isinstance(value, bool):
        raise InvalidRequest(f"'{name}' must be true or false.", param=name)
    return value


def check_text(name: str, value: object) -> str:
    """A string without line breaks or other control characters (they would split a
    header, a log line or a URL sent upstream)."""
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string.", param=name)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidRequest(
            f"'{name}' must not contain line breaks or other control characters.", param=name
        )
    return value


def check_limit(name: str, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequest(f"'{name}' must be a positive integer.", param=name)
    return value


def check_period(value: object) -> str:
    if value not in QUOTA_PERIODS:
        raise InvalidRequest(
            f"'quota_period' must be one of {', '.join(QUOTA_PERIODS)}.", param="quota_period"
        )
    return str(value)


def check_models(models: object) -> str | None:
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


def check_kind(kind: object, vendor: str | None) -> str:
    """What a route serves; a vendor serves only the kinds its adapter speaks."""
    if kind not in MODEL_KINDS:
        raise InvalidRequest(f"'kind' must be one of {', '.join(MODEL_KINDS)}.", param="kind")
    allowed = VENDOR_KINDS.get(vendor or "", MODEL_KINDS)
    if kind not in allowed:
        raise InvalidRequest(
            f"A {vendor} route serves {' or '.join(allowed)}, not {kind}.", param="kind"
        )
    return str(kind)

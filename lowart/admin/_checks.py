"""Checks on what an admin sends, shared by every admin operation (CLI and API alike)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import orjson

from lowart.accounting import PRICE_COLUMNS, check_currency, check_price
from lowart.auth import MAX_BUDGET, QUOTA_PERIODS
from lowart.errors import InvalidRequest

__all__ = [
    "KEY_LIMITS",
    "MODEL_FIELDS",
    "check_budget",
    "check_currency_field",
    "check_flag",
    "check_limit",
    "check_models",
    "check_name",
    "check_period",
    "check_price_field",
    "check_text",
    "parse_moment",
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
    *PRICE_COLUMNS,
    "currency",
)
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


def check_period(value: object, name: str = "quota_period") -> str:
    if value not in QUOTA_PERIODS:
        raise InvalidRequest(f"'{name}' must be one of {', '.join(QUOTA_PERIODS)}.", param=name)
    return str(value)


def check_price_field(name: str, value: object) -> Decimal | None:
    """A route's rate (None removes it): a non-negative decimal with at most six places."""
    if value is None:
        return None
    try:
        return check_price(name, value)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param=name) from exc


def check_currency_field(value: object) -> str | None:
    if value is None:
        return None
    try:
        return check_currency(value)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="currency") from exc


def check_budget(value: object) -> Decimal | None:
    """A key's spending limit (None removes it): a decimal from 0 to MAX_BUDGET."""
    if value is None:
        return None
    try:
        budget = check_price("budget", value)
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="budget") from exc
    if budget > MAX_BUDGET:
        raise InvalidRequest(f"'budget' must be at most {MAX_BUDGET}.", param="budget")
    return budget


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


_RELATIVE = re.compile(r"(\d{1,6})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_moment(value: str | None) -> datetime | None:
    """A report's or log's start, in UTC: relative (`30m`, `24h`, `7d`: that long ago),
    a day (`2026-11-01`: its start) or a time (`2026-11-01T12:00`, UTC unless it says)."""
    if not value:
        return None
    text = value.strip()
    match = _RELATIVE.fullmatch(text)
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequest(
            f"Invalid 'since' {value!r}: use e.g. 30m, 24h, 7d, 2026-11-01 or 2026-11-01T12:00.",
            param="since",
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

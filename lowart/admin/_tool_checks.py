"""Checks on what an admin sends about upstream MCP servers, policies and allow-lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lowart.admin._checks import check_flag, check_text
from lowart.errors import InvalidRequest
from lowart.toolhub import POLICIES, SERVER_NAME

__all__ = [
    "MAX_RESULT_BYTES",
    "MAX_TIMEOUT",
    "check_args",
    "check_command",
    "check_pairs",
    "check_policy",
    "check_result_bytes",
    "check_server_name",
    "check_timeout",
    "check_tool_pattern",
    "check_tool_patterns",
    "check_url",
]

MAX_TIMEOUT = 300.0
MAX_RESULT_BYTES = 4 * 1024 * 1024
_MIN_RESULT_BYTES = 1024
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_PATTERN = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+\.[A-Za-z0-9_.*?\[\]!/:@-]{1,150}$")
_MAX_PAIRS = 64
_MAX_VALUE = 8192
_MAX_ARGS = 64
_MAX_PATTERNS = 200


def check_server_name(name: object) -> str:
    if not isinstance(name, str) or not SERVER_NAME.fullmatch(name):
        raise InvalidRequest(
            f"Invalid MCP server name {name!r}: lowercase letters, digits and '-', "
            "starting with a letter or digit, at most 32.",
            param="name",
        )
    return name


def check_url(value: object) -> str:
    url = check_text("url", value)
    if len(url) > 2000:
        raise InvalidRequest("'url' is too long (at most 2000 characters).", param="url")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidRequest("'url' is not a valid URL.", param="url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("'url' must be an http:// or https:// URL with a host.", param="url")
    return url


def check_pairs(field: str, value: object) -> dict[str, str]:
    """Headers (`field` "headers") or environment variables ("env"): name -> value."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{field}' must be an object of names to strings.", param=field)
    if len(value) > _MAX_PAIRS:
        raise InvalidRequest(f"'{field}' has more than {_MAX_PAIRS} entries.", param=field)
    pattern = _HEADER_NAME if field == "headers" else _ENV_NAME
    pairs: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not pattern.fullmatch(name):
            raise InvalidRequest(f"Invalid name {str(name)[:100]!r} in '{field}'.", param=field)
        text = check_text(f"{field}.{name}", item)
        if len(text) > _MAX_VALUE:
            raise InvalidRequest(f"'{field}.{name}' is too long.", param=field)
        pairs[name] = text
    return pairs


def check_command(value: object) -> str:
    command = check_text("command", value).strip()
    if not command or len(command) > 1000:
        raise InvalidRequest(
            "'command' must be a non-empty string (at most 1000).", param="command"
        )
    return command


def check_args(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > _MAX_ARGS:
        raise InvalidRequest(f"'args' must be a list of at most {_MAX_ARGS} strings.", param="args")
    args = [check_text("args", item) for item in value]
    if any(len(arg) > _MAX_VALUE for arg in args):
        raise InvalidRequest("An argument in 'args' is too long.", param="args")
    return args


def check_timeout(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_TIMEOUT
    ):
        raise InvalidRequest(
            f"'timeout' must be a number of seconds above 0, at most {MAX_TIMEOUT:g}.",
            param="timeout",
        )
    return float(value)


def check_result_bytes(value: object) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not _MIN_RESULT_BYTES <= value <= MAX_RESULT_BYTES
    ):
        raise InvalidRequest(
            f"'max_result_bytes' must be an integer from {_MIN_RESULT_BYTES} to "
            f"{MAX_RESULT_BYTES}.",
            param="max_result_bytes",
        )
    return value


def check_enabled(value: object) -> bool:
    return check_flag("enabled", value)


def check_tool_pattern(value: object, field: str = "pattern") -> str:
    """A `server.tool` glob (`github.*`, `*.delete_*`); a bare server name means all of
    its tools (`github` -> `github.*`)."""
    if not isinstance(value, str):
        raise InvalidRequest(f"'{field}' must be a string like 'server.tool'.", param=field)
    pattern = value.strip()
    if pattern and "." not in pattern:
        pattern += ".*"
    if not _PATTERN.fullmatch(pattern):
        raise InvalidRequest(
            f"Invalid tool pattern {value[:100]!r}: use 'server.tool' with * ? [] globs, "
            "e.g. 'github.*' or 'fs.read_file'.",
            param=field,
        )
    return pattern


def check_tool_patterns(value: object) -> list[str] | None:
    """A key's allowed tools: a list of patterns (or a comma-separated string); None: all."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [item for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or len(value) > _MAX_PATTERNS:
        raise InvalidRequest(
            f"'tools' must be a list of at most {_MAX_PATTERNS} 'server.tool' patterns.",
            param="tools",
        )
    return [check_tool_pattern(item, "tools") for item in value]


def check_policy(value: object) -> str:
    if value not in POLICIES:
        raise InvalidRequest(
            f"Invalid policy {value!r}: use {', '.join(POLICIES)}.", param="policy"
        )
    return str(value)


def server_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The columns of an add or an update (only the fields given), checked."""
    values: dict[str, Any] = {}
    if "url" in fields and fields["url"] is not None:
        values["url"] = check_url(fields["url"])
    if "headers" in fields:
        values["headers"] = check_pairs("headers", fields["headers"])
    if "command" in fields and fields["command"] is not None:
        values["command"] = check_command(fields["command"])
    if "args" in fields:
        values["args"] = check_args(fields["args"])
    if "env" in fields:
        values["env"] = check_pairs("env", fields["env"])
    if "enabled" in fields:
        values["enabled"] = check_enabled(fields["enabled"])
    if "timeout" in fields:
        values["call_timeout"] = check_timeout(fields["timeout"])
    if "max_result_bytes" in fields:
        values["max_result_bytes"] = check_result_bytes(fields["max_result_bytes"])
    return values

"""Checking tool arguments, with messages that tell an agent exactly what to fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lowart.errors import InvalidRequest

__all__ = ["optional_string", "reject_unknown", "required_string"]


def reject_unknown(arguments: Mapping[str, Any], known: Iterable[str]) -> None:
    """A misspelt option should fail loudly, not be silently ignored."""
    allowed = tuple(known)
    unknown = sorted(set(arguments) - set(allowed))
    if unknown:
        expected = ", ".join(allowed) if allowed else "none"
        raise InvalidRequest(
            f"Unknown argument(s): {', '.join(unknown)}. This tool takes: {expected}.",
            param=unknown[0],
        )


def optional_string(arguments: Mapping[str, Any], name: str) -> str | None:
    value = arguments.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string.", param=name)
    return value


def required_string(arguments: Mapping[str, Any], name: str) -> str:
    value = optional_string(arguments, name)
    if not value:
        raise InvalidRequest(f"'{name}' is required and must be a non-empty string.", param=name)
    return value

"""Upstream usage is untrusted input: turn it into counts the store can hold.

An upstream (or a route's Lua script) may report usage that is missing, of the
wrong type (`"prompt_tokens": "abc"`, `"usage": "x"`), negative, or larger than
any column. `checked_usage` is the one place that reads it: counts are clamped
to `0..MAX_TOKENS` (a negative count must never reduce a key's used tokens), and
anything malformed gives None, which means "count it ourselves" (StreamMeter,
count_prompt_tokens). It runs once per request, where usage appears, never per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, cast

from lowart.types import Usage

__all__ = ["MAX_TOKENS", "CheckedUsage", "checked_usage", "clamp_tokens"]

# Each count at most half the store's INTEGER token columns (lowart.store's
# TOKEN_COLUMN_MAX, PostgreSQL's int4; a test keeps the two in step), so
# prompt + completion (the record's total) fits as well.
MAX_TOKENS = 2**30 - 1


class CheckedUsage(NamedTuple):
    """One request's usage, every count a non-negative int within MAX_TOKENS."""

    prompt: int
    completion: int
    cache_read: int = 0
    cache_creation: int = 0
    reasoning: int = 0
    """Completion tokens spent reasoning (OpenAI's completion_tokens_details), for metrics."""

    def as_openai(self, reported: object = None) -> Usage:
        """The canonical usage object: `reported` (other fields kept) with safe counts."""
        usage = dict(reported) if isinstance(reported, Mapping) else {}
        usage["prompt_tokens"] = self.prompt
        usage["completion_tokens"] = self.completion
        usage["total_tokens"] = self.prompt + self.completion
        details = usage.pop("prompt_tokens_details", None)
        if isinstance(details, Mapping) or self.cache_read:
            usage["prompt_tokens_details"] = {
                **(details if isinstance(details, Mapping) else {}),
                "cached_tokens": self.cache_read,
            }
        if "cache_creation_input_tokens" in usage or self.cache_creation:
            usage["cache_creation_input_tokens"] = self.cache_creation
        return cast(Usage, usage)


def clamp_tokens(value: int) -> int:
    return 0 if value < 0 else min(value, MAX_TOKENS)


def _count(value: object) -> int | None:
    """A token count as an int within range, or None when it is not a number at all."""
    if type(value) is int:
        return clamp_tokens(value)
    if type(value) is float and value.is_integer():  # 11.0 from a loose JSON encoder
        return clamp_tokens(int(value))
    return None


def _optional(value: object) -> int:
    """An optional count (cache tokens): absent or malformed counts as 0."""
    return _count(value) or 0


def checked_usage(usage: object) -> CheckedUsage | None:
    """Safe counts from an upstream's OpenAI-shaped usage object, or None when it is
    missing or malformed (then the gateway counts the tokens itself)."""
    if not isinstance(usage, Mapping):
        return None
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    if prompt is None or completion is None:
        return None
    details = usage.get("prompt_tokens_details")
    cache_read = _optional(details.get("cached_tokens")) if isinstance(details, Mapping) else 0
    completion_details = usage.get("completion_tokens_details")
    reasoning = (
        _optional(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, Mapping)
        else 0
    )
    return CheckedUsage(
        prompt,
        completion,
        cache_read,
        _optional(usage.get("cache_creation_input_tokens")),
        min(reasoning, completion),
    )

"""Which policy applies to a key's call of a tool, and which tools a key may use.

Rules are `server.tool` globs. A key's own rules come before the global ones;
within one scope the most specific pattern wins (fewest wildcards, then the
longest literal part), so `github.delete_*: block` beats `github.*: auto`.
Nothing matching: the configured default (`LOWART_TOOL_DEFAULT_POLICY`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from lowart.toolhub._types import POLICIES, Policy

__all__ = ["PolicyBook", "Rule", "allows"]

_WILDCARDS = "*?["


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str
    policy: Policy
    key_id: int | None

    @property
    def specificity(self) -> tuple[int, int]:
        wildcards = sum(self.pattern.count(c) for c in _WILDCARDS)
        literal = len(self.pattern) - wildcards
        return (-wildcards, literal)


class PolicyBook:
    """The rules of one configuration version, ordered once for quick lookups."""

    def __init__(self, rules: Iterable[Rule], default: Policy) -> None:
        ordered = sorted(rules, key=lambda r: r.specificity, reverse=True)
        self._global = [r for r in ordered if r.key_id is None]
        self._by_key: dict[int, list[Rule]] = {}
        for rule in ordered:
            if rule.key_id is not None:
                self._by_key.setdefault(rule.key_id, []).append(rule)
        self.default = default

    def policy(self, key_id: int, server: str, tool: str) -> Policy:
        dotted = f"{server}.{tool}"
        for rules in (self._by_key.get(key_id, ()), self._global):
            for rule in rules:
                if fnmatchcase(dotted, rule.pattern):
                    return rule.policy
        return self.default


def allows(patterns: Sequence[str] | None, server: str, tool: str) -> bool:
    """Whether a key's allow-list admits `server.tool` (None admits everything)."""
    if patterns is None:
        return True
    dotted = f"{server}.{tool}"
    return any(fnmatchcase(dotted, pattern) for pattern in patterns)


def as_policy(value: str) -> Policy:
    for policy in POLICIES:
        if value == policy:
            return policy
    raise ValueError(f"unknown tool policy {value!r}")

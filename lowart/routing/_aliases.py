"""Model aliases: which route a model name no route has resolves to.

Clients with built-in model names (Claude Code asks for `claude-sonnet-...`)
work once an alias maps them: an exact name, a shell pattern (`claude-*`,
`gpt-4?`) or `*`, the default route for any name nothing else matches. The
most specific pattern wins: an exact alias, then the pattern with the longest
literal text before its first wildcard, then the one with the most literal
characters, then the alphabetically first (so the choice never depends on the
order rows were stored in).

The names a table has answered are remembered (a bounded number), so a client
that asks for the same aliased name again costs one dictionary lookup.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping

__all__ = ["AliasTable", "is_pattern"]

_WILDCARDS = re.compile(r"[*?\[]")
_REMEMBERED = 4096  # distinct names whose answer is kept


def is_pattern(name: str) -> bool:
    """Whether an alias name is a pattern (has a shell wildcard) rather than one name."""
    return _WILDCARDS.search(name) is not None


def _specificity(pattern: str) -> tuple[int, int, str]:
    first = _WILDCARDS.search(pattern)
    prefix = first.start() if first else len(pattern)
    literal = len(_WILDCARDS.sub("", pattern))
    return (-prefix, -literal, pattern)


class AliasTable:
    """Patterns to route names, as loaded from the database (immutable once built)."""

    def __init__(self, aliases: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs: dict[str, str] = dict(aliases.items() if isinstance(aliases, Mapping) else aliases)
        self._exact: dict[str, str] = {p: m for p, m in pairs.items() if not is_pattern(p)}
        ordered = sorted((p for p in pairs if is_pattern(p)), key=_specificity)
        self._patterns = [(re.compile(fnmatch.translate(p)), pairs[p]) for p in ordered]
        self._pairs = pairs
        self._answers: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def items(self) -> dict[str, str]:
        """Every alias: pattern -> route name."""
        return dict(self._pairs)

    def target(self, name: str) -> str | None:
        """The route name `name` is an alias of, or None."""
        if name in self._exact:
            return self._exact[name]
        try:
            return self._answers[name]
        except KeyError:
            pass
        found = next((model for regex, model in self._patterns if regex.match(name)), None)
        if len(self._answers) >= _REMEMBERED:
            self._answers.clear()
        self._answers[name] = found
        return found

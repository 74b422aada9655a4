"""Execution plans: the ordered deployments one request may try.

First the deployments of the requested name in a weighted random order (so
traffic splits by weight and a failing deployment hands over to its
siblings), then each fallback model's deployments, depth first in priority
order. Deployments whose circuit is open are left out.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

from lowart.types import Route

__all__ = ["MAX_CANDIDATES", "build_plan", "find_cycle", "weighted_order"]

MAX_CANDIDATES = 16


def weighted_order(
    routes: Sequence[Route], rnd: Callable[[], float] = random.random
) -> list[Route]:
    """A random order where each deployment comes first with probability weight/total.

    (Efraimidis-Spirakis: sort by u^(1/w).) Weight 0 deployments go last: standbys.
    """
    weighted = [r for r in routes if r.weight > 0]
    standby = [r for r in routes if r.weight <= 0]
    if len(weighted) > 1:  # one deployment needs no draw (and its plan can be cached)
        weighted.sort(key=lambda r: rnd() ** (1.0 / r.weight), reverse=True)
    return weighted + standby


def build_plan(
    name: str,
    deployments: Mapping[str, Sequence[Route]],
    fallbacks: Mapping[str, Sequence[str]],
    available: Callable[[Route], bool],
    rnd: Callable[[], float] = random.random,
) -> list[Route]:
    routes = deployments.get(name, ())
    if len(routes) == 1 and name not in fallbacks:  # the common case, on every request
        only = routes[0]
        return [only] if only.enabled and available(only) else []
    plan: list[Route] = []
    seen: set[str] = set()

    def visit(model: str) -> None:
        if model in seen or len(plan) >= MAX_CANDIDATES:
            return
        seen.add(model)
        enabled = [r for r in deployments.get(model, ()) if r.enabled]
        plan.extend(r for r in weighted_order(enabled, rnd) if available(r))
        for fallback in fallbacks.get(model, ()):
            visit(fallback)

    visit(name)
    return plan[:MAX_CANDIDATES]


def find_cycle(edges: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start through `edges`, if one exists (for configuration checks)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in visited:
                visited.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None

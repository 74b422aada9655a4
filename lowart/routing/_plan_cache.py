"""Plans that come out the same on every request, built once.

Most models have one deployment and every circuit is closed, so the plan for a
name is the same list request after request; building it (policy and breaker
lookups per candidate) was a measurable share of each request. A plan is kept
only when nothing in it was left to chance: no random draw (one weighted
deployment per model) and every breaker it looked at closed, so an open
circuit that cools down, which changes no state, is never hidden by the cache.
The cache empties whenever the configuration is reloaded or any breaker
changes state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lowart.routing._breaker import Breakers
from lowart.types import Route

__all__ = ["PlanCache"]


class PlanCache:
    def __init__(self, breakers: Breakers) -> None:
        self._breakers = breakers
        self._plans: dict[str, list[Route]] = {}
        self._deployments: object = None
        self._fallbacks: object = None
        self._generation = -1

    def get(
        self,
        name: str,
        deployments: Mapping[str, Sequence[Route]],
        fallbacks: Mapping[str, Sequence[str]],
    ) -> list[Route] | None:
        """The kept plan for `name`, if the configuration and every circuit are as they were."""
        generation = self._breakers.generation
        if (
            deployments is not self._deployments
            or fallbacks is not self._fallbacks
            or generation != self._generation
        ):
            self._plans.clear()
            self._deployments, self._fallbacks, self._generation = (
                deployments,
                fallbacks,
                generation,
            )
            return None
        return self._plans.get(name)

    def put(self, name: str, plan: list[Route]) -> None:
        """Keep a steady plan; call right after a `get` for the same name, without awaiting."""
        self._plans[name] = plan

"""Router.plan keeps steady plans, and never one an open circuit or a reload changed."""

from __future__ import annotations

import random

from lowart.routing import Breakers, Policy, Router
from lowart.types import Route

POLICY = Policy(breaker_min_calls=1, breaker_failure_ratio=1.0, breaker_cooldown=5.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Models:
    """What Router reads from the ModelManager; `reload` swaps the tables like a refresh."""

    def __init__(self, deployments: dict[str, list[Route]], fallbacks: dict[str, list[str]]):
        self._deployments, self._fallbacks = deployments, fallbacks

    def reload(self, deployments: dict[str, list[Route]], fallbacks: dict[str, list[str]]):
        self._deployments, self._fallbacks = deployments, fallbacks

    def deployments(self) -> dict[str, list[Route]]:
        return self._deployments

    def fallbacks(self) -> dict[str, list[str]]:
        return self._fallbacks

    def policy(self, route: Route) -> Policy:
        return POLICY


def route(id: int, name: str, weight: int = 1) -> Route:
    return Route(id=id, name=name, vendor="mock", upstream_model=name, weight=weight)


def router(models: Models, clock: Clock, rnd=random.random) -> tuple[Router, Breakers]:
    breakers = Breakers(clock=clock)
    return Router(models, lambda r: None, breakers, rnd=rnd), breakers  # type: ignore[arg-type]


def fail(breakers: Breakers, r: Route) -> None:
    ticket = breakers.for_route(r, POLICY).acquire()
    assert ticket is not None
    ticket.failure()


def test_an_opened_circuit_and_its_cool_down_reach_the_next_plan():
    a, b = route(1, "a"), route(2, "b")
    clock = Clock()
    plans, breakers = router(Models({"a": [a], "b": [b]}, {"a": ["b"]}), clock)
    assert plans.plan("a") == [a, b]
    assert plans.plan("a") == [a, b]  # served from the cache
    fail(breakers, a)  # a's circuit opens
    assert plans.plan("a") == [b]
    clock.now += 6  # cooled down: no state change, a probe may go through
    assert plans.plan("a") == [a, b]
    ticket = breakers.for_route(a, POLICY).acquire()  # the probe: half-open
    assert ticket is not None
    assert plans.plan("a") == [b]  # its one probe slot is taken
    ticket.success()  # closed again
    assert plans.plan("a") == [a, b]


def test_a_reload_is_seen_by_the_next_plan():
    a, b, c = route(1, "a"), route(2, "b"), route(3, "c")
    models = Models({"a": [a], "b": [b]}, {})
    plans, _ = router(models, Clock())
    assert plans.plan("a") == [a]
    models.reload({"a": [a], "b": [b], "c": [c]}, {"a": ["c"]})
    assert plans.plan("a") == [a, c]


def test_weighted_deployments_are_still_shuffled_per_request():
    a1, a2 = route(1, "a"), route(2, "a")
    plans, _ = router(Models({"a": [a1, a2]}, {}), Clock(), rnd=random.Random(3).random)
    firsts = {plans.plan("a")[0].id for _ in range(50)}
    assert firsts == {1, 2}


def test_a_returned_plan_can_be_changed_without_touching_the_cache():
    a = route(1, "a")
    plans, _ = router(Models({"a": [a]}, {}), Clock())
    plans.plan("a").clear()
    assert plans.plan("a") == [a]

"""Circuit breaker states: opening on a failure ratio, half-open probes, closing."""

from __future__ import annotations

from lowart.routing import Breakers, CircuitBreaker, Policy
from lowart.types import Route


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **options) -> tuple[CircuitBreaker, list[str]]:
    changes: list[str] = []
    settings = {
        "breaker_window": 10.0,
        "breaker_min_calls": 4,
        "breaker_failure_ratio": 0.5,
        "breaker_cooldown": 5.0,
        "breaker_probes": 2,
        **options,
    }
    policy = Policy(**settings)
    return CircuitBreaker(policy, lambda s: changes.append(s.state), clock), changes


def call(b: CircuitBreaker, ok: bool) -> None:
    ticket = b.acquire()
    assert ticket is not None
    ticket.success() if ok else ticket.failure()


def test_opens_only_at_min_calls_and_ratio():
    clock = Clock()
    b, changes = breaker(clock)
    for ok in (False, False, False):  # 3 failures, but fewer than min_calls
        call(b, ok)
    assert b.state == "closed"
    call(b, False)
    assert b.state == "open" and changes == ["open"]
    assert b.acquire() is None and not b.available()
    assert 4.9 < b.retry_after() <= 5.0


def test_ratio_below_threshold_stays_closed_and_old_outcomes_expire():
    clock = Clock()
    b, _ = breaker(clock)
    for ok in (True, True, True, False):
        call(b, ok)
    assert b.state == "closed"  # 1/4 < 0.5
    clock.now += 11  # the window forgets them
    for ok in (False, False, False):
        call(b, ok)
    assert b.state == "closed"  # 3 calls in the window < min_calls
    call(b, True)
    call(b, False)
    assert b.state == "open"  # 4/5 failed


def test_half_open_limits_probes_then_closes_after_all_succeed():
    clock = Clock()
    b, changes = breaker(clock)
    for _ in range(4):
        call(b, False)
    clock.now += 5
    assert b.available()
    first, second = b.acquire(), b.acquire()
    assert b.state == "half_open" and first and second and first.probe
    assert b.acquire() is None  # only two probes at a time
    first.success()
    assert b.state == "half_open"
    second.success()
    assert b.state == "closed"
    assert changes == ["open", "half_open", "closed"]
    call(b, False)  # a fresh window: one failure does not reopen it
    assert b.state == "closed"


def test_a_failed_probe_reopens_for_a_new_cooldown():
    clock = Clock()
    b, changes = breaker(clock)
    for _ in range(4):
        call(b, False)
    clock.now += 6
    probe = b.acquire()
    assert probe is not None
    probe.failure()
    assert b.state == "open" and changes == ["open", "half_open", "open"]
    assert b.acquire() is None
    clock.now += 5
    assert b.acquire() is not None


def test_a_released_probe_frees_its_slot_and_tickets_count_once():
    clock = Clock()
    b, _ = breaker(clock, breaker_probes=1)
    for _ in range(4):
        call(b, False)
    clock.now += 5
    probe = b.acquire()
    assert b.acquire() is None
    probe.release()
    probe.failure()  # already resolved: ignored
    assert b.state == "half_open"
    again = b.acquire()
    assert again is not None
    again.success()
    assert b.state == "closed"


def test_breakers_are_per_deployment_and_follow_policy_changes():
    board = Breakers(clock=Clock())
    a = Route(id=1, name="m", vendor="mock", upstream_model="mock")
    b = Route(id=2, name="m", vendor="mock", upstream_model="mock")
    policy = Policy(breaker_min_calls=1)
    first = board.for_route(a, policy)
    assert board.for_route(b, policy) is not first
    assert board.for_route(a, Policy(breaker_min_calls=3)) is first
    assert first.policy.breaker_min_calls == 3
    assert board.snapshot(1).state == "closed" and board.snapshot(99) is None

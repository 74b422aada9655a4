"""Plans: weighted order, fallbacks depth first by priority, open circuits left out."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from lowart.adapters.base import parse_retry_after
from lowart.errors import (
    ProviderKeyMissing,
    TransformFailed,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lowart.routing import Policy, backoff_delay, build_plan, classify, find_cycle, weighted_order
from lowart.types import Route


def route(id: int, name: str, weight: int = 1, enabled: bool = True) -> Route:
    return Route(
        id=id, name=name, vendor="mock", upstream_model=name, weight=weight, enabled=enabled
    )


def test_weighted_order_first_pick_follows_weights():
    rng = random.Random(7)
    routes = [route(1, "m", 3), route(2, "m", 1), route(3, "m", 0)]
    firsts = Counter(weighted_order(routes, rng.random)[0].id for _ in range(8000))
    assert abs(firsts[1] / 8000 - 0.75) < 0.02
    assert firsts[3] == 0  # weight 0 is a standby: never first while others exist
    assert weighted_order(routes, rng.random)[-1].id == 3


def test_plan_walks_fallbacks_depth_first_and_skips_unavailable():
    deployments = {
        "a": [route(1, "a"), route(2, "a", enabled=False)],
        "b": [route(3, "b")],
        "c": [route(4, "c")],
        "d": [route(5, "d")],
    }
    fallbacks = {"a": ["b", "d"], "b": ["c", "a"]}
    plan = build_plan("a", deployments, fallbacks, lambda r: r.id != 3)
    assert [r.id for r in plan] == [1, 4, 5]  # b's only deployment is open; disabled left out


def test_find_cycle_reports_the_path():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}, "a") == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": ["c"]}, "a") is None


def test_classification_of_failures():
    assert classify(UpstreamTimeout("t")) == "retry"
    assert classify(UpstreamUnavailable("u")) == "retry"
    assert classify(UpstreamError("x", upstream_status=429)) == "retry"
    assert classify(UpstreamError("x", upstream_status=503)) == "retry"
    assert classify(UpstreamError("dropped")) == "retry"
    assert classify(UpstreamError("x", upstream_status=401)) == "fall_back"
    assert classify(ProviderKeyMissing("m", "OPENAI_KEY")) == "fall_back"
    assert classify(UpstreamError("x", upstream_status=400)) == "fatal"
    assert classify(TransformFailed("x")) == "ignore"


def test_backoff_grows_with_jitter_and_honours_retry_after():
    policy = Policy(retry_backoff=0.5, retry_backoff_max=3.0, max_retry_wait=10.0)
    assert backoff_delay(policy, 0, None, lambda: 0.0) == 0.25
    assert backoff_delay(policy, 0, None, lambda: 1.0) == 0.5
    assert backoff_delay(policy, 5, None, lambda: 1.0) == 3.0  # capped
    assert backoff_delay(policy, 0, 4.0, lambda: 0.5) == 4.0
    assert backoff_delay(policy, 0, 30.0, lambda: 0.5) is None  # too long: fall back instead


def test_retry_after_header_forms():
    from email.utils import format_datetime

    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("0.5") == 0.5
    assert 28 <= parse_retry_after(format_datetime(soon, usegmt=True)) <= 30
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None

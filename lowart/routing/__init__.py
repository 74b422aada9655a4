"""Choosing the upstream for a public model name: deployments, fallbacks, breakers."""

from lowart.routing._breaker import Breakers, BreakerSnapshot, CircuitBreaker, Ticket
from lowart.routing._manager import ModelManager, route_from_row
from lowart.routing._plan import build_plan, find_cycle, weighted_order
from lowart.routing._policy import Policy, policy_from_options, validate_policy_options
from lowart.routing._publisher import HealthPublisher
from lowart.routing._router import (
    OpenedStream,
    Router,
    Trail,
    backoff_delay,
    classify,
    close_quietly,
)

__all__ = [
    "BreakerSnapshot",
    "Breakers",
    "CircuitBreaker",
    "HealthPublisher",
    "ModelManager",
    "OpenedStream",
    "Policy",
    "Router",
    "Ticket",
    "Trail",
    "backoff_delay",
    "build_plan",
    "classify",
    "close_quietly",
    "find_cycle",
    "policy_from_options",
    "route_from_row",
    "validate_policy_options",
    "weighted_order",
]

"""The gateway's Prometheus metrics, one registry per gateway (Runtime).

Every part of the engine records through the methods of `Metrics`; nothing
else touches prometheus-client. Label sets are bounded: a route label is
always a configured route name (a model name a client made up never becomes
one: requests that name no known route carry `route=""`), deployments are
configured ids, codes come from the gateway's own error vocabulary, and key
names appear only when the operator opts in (`LOWART_METRICS_KEY_LABELS=1`).

Recording is cheap: the label children a call needs are looked up in a plain
dict of already-resolved children (no lock, no keyword handling), and the
values that live elsewhere (queue depth, circuit states) are read only when
Prometheus scrapes. `Metrics.disabled()` records nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

__all__ = ["METRICS_MODES", "Metrics", "status_class"]

METRICS_MODES = ("admin", "public", "off")
"""Who may read /metrics (LOWART_METRICS): admin keys or the scrape token, anyone, nobody."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
_BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
_LUA_BUCKETS = (0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.5)
_CIRCUIT_STATES = ("closed", "half_open", "open")

CircuitSource = Callable[[], Iterable[tuple[str, str, str]]]
"""Yields (route, deployment id, state) for every deployment this process has a breaker for."""


def status_class(status: int) -> str:
    """`2xx` .. `5xx` (a client that went away, 499, is a `4xx`)."""
    return f"{min(max(status // 100, 1), 5)}xx"


class Metrics:
    """One gateway's metrics and the registry /metrics shows."""

    enabled = True

    def __init__(self, *, key_labels: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._key_labels = key_labels
        keyed = ("key",) if key_labels else ()
        r = self.registry
        self._requests = Counter(
            "lowart_requests",
            "Requests answered, by interface, route, vendor, status class and error code.",
            ("interface", "route", "vendor", "status_class", "code", *keyed),
            registry=r,
        )
        self._duration = Histogram(
            "lowart_request_duration_seconds",
            "Time from a request's arrival to its last byte (streams: the whole stream).",
            ("interface", "route"),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self._ttft = Histogram(
            "lowart_time_to_first_token_seconds",
            "Time from a streamed request's arrival to its first chunk.",
            ("interface", "route", "vendor"),
            buckets=_TTFT_BUCKETS,
            registry=r,
        )
        self._tokens = Counter(
            "lowart_tokens",
            "Tokens used, by route, vendor and kind (prompt, completion, cached, reasoning).",
            ("route", "vendor", "kind", *keyed),
            registry=r,
        )
        self._cost = Counter(
            "lowart_cost",
            "What the usage cost, by route, vendor and currency (from the route's prices).",
            ("route", "vendor", "currency", *keyed),
            registry=r,
        )
        self._in_flight = Gauge(
            "lowart_in_flight_requests", "Requests being handled now.", registry=r
        )
        self._streams = Gauge(
            "lowart_open_streams", "Streamed answers open now.", ("interface",), registry=r
        )
        self._attempts = Counter(
            "lowart_upstream_attempts",
            "Attempts to call a deployment, by outcome (ok or the error code).",
            ("route", "deployment", "outcome"),
            registry=r,
        )
        self._retries = Counter(
            "lowart_upstream_retries",
            "Attempts repeated on the same deployment after a retryable failure.",
            ("route", "deployment"),
            registry=r,
        )
        self._fallbacks = Counter(
            "lowart_fallbacks",
            "Requests answered by a fallback model instead of the one asked for.",
            ("requested", "served"),
            registry=r,
        )
        self._rejections = Counter(
            "lowart_limiter_rejections",
            "Requests refused by a key's limits, by kind (rpm, tpm, concurrency, quota, ...).",
            ("kind",),
            registry=r,
        )
        self._batch = Histogram(
            "lowart_usage_batch_seconds",
            "Time to write one batch of usage records to the database.",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self._written = Counter(
            "lowart_usage_rows_written", "Usage records written to the database.", registry=r
        )
        self._quarantined = Counter(
            "lowart_usage_rows_quarantined",
            "Usage records the database refused on their own (logged, never written).",
            registry=r,
        )
        self._lua_calls = Counter(
            "lowart_lua_calls", "Lua transform calls.", ("route", "phase"), registry=r
        )
        self._lua_errors = Counter(
            "lowart_lua_errors", "Lua transform calls that failed.", ("route", "phase"), registry=r
        )
        self._lua_seconds = Histogram(
            "lowart_lua_seconds",
            "Time of one Lua transform call.",
            ("route", "phase"),
            buckets=_LUA_BUCKETS,
            registry=r,
        )
        self._image_jobs = Counter(
            "lowart_image_jobs",
            "Image jobs reaching a state (queued, running, succeeded, failed, cancelled).",
            ("state",),
            registry=r,
        )
        self._children: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def disabled(cls) -> Metrics:
        """Metrics that record nothing (LOWART_METRICS=off)."""
        return _NoMetrics()

    def _child(self, metric: Any, *labels: str) -> Any:
        """The child for `labels`, resolved once (prometheus-client's `labels` takes a lock)."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # ---- requests (the frontends, through the Gateway) -------------------------------------

    def request_started(self) -> None:
        self._in_flight.inc()

    def request_finished(
        self,
        interface: str,
        route: str | None,
        vendor: str | None,
        status: int,
        code: str | None,
        key: str | None,
        seconds: float,
    ) -> None:
        self._in_flight.dec()
        labels: tuple[str, ...] = (
            interface,
            route or "",
            vendor or "",
            status_class(status),
            code or "",
        )
        if self._key_labels:
            labels += (key or "",)
        self._child(self._requests, *labels).inc()
        self._child(self._duration, interface, route or "").observe(seconds)

    def stream_opened(self, interface: str) -> None:
        self._child(self._streams, interface).inc()

    def stream_closed(self, interface: str) -> None:
        self._child(self._streams, interface).dec()

    # ---- usage (every usage record, through the writer) ------------------------------------

    def usage(
        self,
        route: str,
        vendor: str,
        interface: str,
        key: str | None,
        tokens: tuple[int, int, int, int],
        ttft_seconds: float | None,
        cost: tuple[float, str] | None = None,
    ) -> None:
        """`tokens`: prompt, completion, cached and reasoning tokens."""
        keyed = (key or "",) if self._key_labels else ()
        for kind, count in zip(
            ("prompt", "completion", "cached", "reasoning"), tokens, strict=True
        ):
            if count:
                self._child(self._tokens, route, vendor, kind, *keyed).inc(count)
        if ttft_seconds is not None:
            self._child(self._ttft, interface, route, vendor).observe(ttft_seconds)
        if cost is not None and cost[0]:
            self._child(self._cost, route, vendor, cost[1], *keyed).inc(cost[0])

    # ---- routing ---------------------------------------------------------------------------

    def attempt(self, route: str, deployment: int, outcome: str) -> None:
        self._child(self._attempts, route, str(deployment), outcome).inc()

    def retry(self, route: str, deployment: int) -> None:
        self._child(self._retries, route, str(deployment)).inc()

    def fallback(self, requested: str, served: str) -> None:
        self._child(self._fallbacks, requested, served).inc()

    def watch_circuits(self, source: CircuitSource) -> None:
        """Report circuit states, read from `source` at each scrape (not on the hot path)."""
        self.registry.register(_CircuitCollector(source))

    # ---- limits ----------------------------------------------------------------------------

    def rejected(self, kind: str) -> None:
        self._child(self._rejections, kind).inc()

    # ---- the usage writer ------------------------------------------------------------------

    def watch_usage_queue(self, depth: Callable[[], int]) -> None:
        """Report the writer's queue depth, read at each scrape."""
        gauge = Gauge(
            "lowart_usage_queue_depth",
            "Usage records waiting to be written to the database.",
            registry=self.registry,
        )
        gauge.set_function(lambda: float(depth()))

    def usage_batch(self, seconds: float, rows: int) -> None:
        self._batch.observe(seconds)
        self._written.inc(rows)

    def usage_quarantined(self) -> None:
        self._quarantined.inc()

    # ---- Lua transforms and image jobs -----------------------------------------------------

    def lua_call(self, route: str, phase: str, seconds: float, failed: bool) -> None:
        self._child(self._lua_calls, route, phase).inc()
        self._child(self._lua_seconds, route, phase).observe(seconds)
        if failed:
            self._child(self._lua_errors, route, phase).inc()

    def image_job(self, state: str) -> None:
        self._child(self._image_jobs, state).inc()

    # ---- exposition ------------------------------------------------------------------------

    def exposition(self) -> tuple[bytes, str]:
        """The text format Prometheus scrapes, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _NoMetrics(Metrics):
    """Records nothing; the registry stays empty (LOWART_METRICS=off serves no /metrics)."""

    enabled = False

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)

    def request_started(self) -> None:
        pass

    def request_finished(self, *args: Any) -> None:
        pass

    def stream_opened(self, interface: str) -> None:
        pass

    def stream_closed(self, interface: str) -> None:
        pass

    def usage(self, *args: Any, **kwargs: Any) -> None:
        pass

    def attempt(self, route: str, deployment: int, outcome: str) -> None:
        pass

    def retry(self, route: str, deployment: int) -> None:
        pass

    def fallback(self, requested: str, served: str) -> None:
        pass

    def watch_circuits(self, source: CircuitSource) -> None:
        pass

    def rejected(self, kind: str) -> None:
        pass

    def watch_usage_queue(self, depth: Callable[[], int]) -> None:
        pass

    def usage_batch(self, seconds: float, rows: int) -> None:
        pass

    def usage_quarantined(self) -> None:
        pass

    def lua_call(self, route: str, phase: str, seconds: float, failed: bool) -> None:
        pass

    def image_job(self, state: str) -> None:
        pass


class _CircuitCollector(Collector):
    def __init__(self, source: CircuitSource) -> None:
        self._source = source

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "lowart_circuit_state",
            "Circuit breaker state per deployment in this process (1 for the current state).",
            labels=("route", "deployment", "state"),
        )
        for route, deployment, current in self._source():
            for state in _CIRCUIT_STATES:
                family.add_metric((route, deployment, state), 1.0 if state == current else 0.0)
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []

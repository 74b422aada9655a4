"""The gateway's Prometheus metrics, one registry per gateway (Runtime).

Every part of the engine records through the methods of `Metrics`; nothing
else touches prometheus-client. Label sets are bounded: a route label is
always a configured route name (a model name a client made up never becomes
one: requests that name no known route carry `route=""`), deployments are
configured ids, codes come from the gateway's own error vocabulary, and key
names appear only when the operator opts in (`LOWART_METRICS_KEY_LABELS=1`).

Recording is cheap: values are plain dict entries updated on the event loop
(`_families`), turned into Prometheus families only when /metrics is
scraped; what lives elsewhere (queue depth, circuit states) is read then too.
`Metrics.disabled()` records nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from lowart.telemetry._families import CounterFamily, GaugeFamily, HistogramFamily

__all__ = ["METRICS_MODES", "Metrics", "status_class"]

METRICS_MODES = ("admin", "public", "off")
"""Who may read /metrics (LOWART_METRICS): admin keys or the scrape token, anyone, nobody."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
_BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
_LUA_BUCKETS = (0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.5)
_TOOL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_CIRCUIT_STATES = ("closed", "half_open", "open")
_STATUS_CLASSES = {status: f"{min(max(status // 100, 1), 5)}xx" for status in range(600)}

CircuitSource = Callable[[], Iterable[tuple[str, str, str]]]
"""Yields (route, deployment id, state) for every deployment this process has a breaker for."""


def status_class(status: int) -> str:
    """`2xx` .. `5xx` (a client that went away, 499, is a `4xx`)."""
    return _STATUS_CLASSES.get(status) or f"{min(max(status // 100, 1), 5)}xx"


class Metrics:
    """One gateway's metrics and the registry /metrics shows."""

    enabled = True

    def __init__(self, *, key_labels: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._key_labels = key_labels
        keyed = ("key",) if key_labels else ()
        self._requests = CounterFamily(
            "lowart_requests",
            "Requests answered, by interface, route, vendor, status class and error code.",
            ("interface", "route", "vendor", "status_class", "code", *keyed),
        )
        self._duration = HistogramFamily(
            "lowart_request_duration_seconds",
            "Time from a request's arrival to its last byte (streams: the whole stream).",
            ("interface", "route"),
            _LATENCY_BUCKETS,
        )
        self._ttft = HistogramFamily(
            "lowart_time_to_first_token_seconds",
            "Time from a streamed request's arrival to its first chunk.",
            ("interface", "route", "vendor"),
            _TTFT_BUCKETS,
        )
        self._tokens = CounterFamily(
            "lowart_tokens",
            "Tokens used, by route, vendor and kind (prompt, completion, cached, reasoning).",
            ("route", "vendor", "kind", *keyed),
        )
        self._cost = CounterFamily(
            "lowart_cost",
            "What the usage cost, by route, vendor and currency (from the route's prices).",
            ("route", "vendor", "currency", *keyed),
        )
        self._in_flight = GaugeFamily("lowart_in_flight_requests", "Requests being handled now.")
        self._streams = GaugeFamily(
            "lowart_open_streams", "Streamed answers open now.", ("interface",)
        )
        self._attempts = CounterFamily(
            "lowart_upstream_attempts",
            "Attempts to call a deployment, by outcome (ok or the error code).",
            ("route", "deployment", "outcome"),
        )
        self._retries = CounterFamily(
            "lowart_upstream_retries",
            "Attempts repeated on the same deployment after a retryable failure.",
            ("route", "deployment"),
        )
        self._fallbacks = CounterFamily(
            "lowart_fallbacks",
            "Requests answered by a fallback model instead of the one asked for.",
            ("requested", "served"),
        )
        self._rejections = CounterFamily(
            "lowart_limiter_rejections",
            "Requests refused by a key's limits, by kind (rpm, tpm, concurrency, quota, ...).",
            ("kind",),
        )
        self._batch = HistogramFamily(
            "lowart_usage_batch_seconds",
            "Time to write one batch of usage records to the database.",
            (),
            _BATCH_BUCKETS,
        )
        self._written = CounterFamily(
            "lowart_usage_rows_written", "Usage records written to the database."
        )
        self._quarantined = CounterFamily(
            "lowart_usage_rows_quarantined",
            "Usage records the database refused on their own (logged, never written).",
        )
        self._lua_calls = CounterFamily(
            "lowart_lua_calls", "Lua transform calls.", ("route", "phase")
        )
        self._lua_errors = CounterFamily(
            "lowart_lua_errors", "Lua transform calls that failed.", ("route", "phase")
        )
        self._lua_seconds = HistogramFamily(
            "lowart_lua_seconds",
            "Time of one Lua transform call.",
            ("route", "phase"),
            _LUA_BUCKETS,
        )
        self._image_jobs = CounterFamily(
            "lowart_image_jobs",
            "Image jobs reaching a state (queued, running, succeeded, failed, cancelled).",
            ("state",),
        )
        self._tool_calls = CounterFamily(
            "lowart_tool_calls",
            "Upstream MCP tool calls and refusals, by server, tool, decision and outcome.",
            ("server", "tool", "decision", "outcome"),
        )
        self._tool_seconds = HistogramFamily(
            "lowart_tool_call_seconds",
            "Time of one upstream MCP tool call that ran.",
            ("server",),
            _TOOL_BUCKETS,
        )
        families: list[Any] = [
            self._requests,
            self._duration,
            self._ttft,
            self._tokens,
            self._cost,
            self._in_flight,
            self._streams,
            self._attempts,
            self._retries,
            self._fallbacks,
            self._rejections,
            self._batch,
            self._written,
            self._quarantined,
            self._lua_calls,
            self._lua_errors,
            self._lua_seconds,
            self._image_jobs,
            self._tool_calls,
            self._tool_seconds,
        ]
        self._in_flight.add((), 0.0)  # zero-valued series show from the first scrape on
        self._written.inc((), 0.0)
        self._quarantined.inc((), 0.0)
        self.registry.register(_Families(families))

    @classmethod
    def disabled(cls) -> Metrics:
        """Metrics that record nothing (LOWART_METRICS=off)."""
        return _NoMetrics()

    # ---- requests (the frontends, through the Gateway) -------------------------------------

    def request_started(self) -> None:
        self._in_flight.add((), 1.0)

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
        self._in_flight.add((), -1.0)
        route = route or ""
        klass = _STATUS_CLASSES.get(status) or status_class(status)
        if self._key_labels:
            labels: tuple[str, ...] = (interface, route, vendor or "", klass, code or "", key or "")
        else:
            labels = (interface, route, vendor or "", klass, code or "")
        self._requests.inc(labels)
        self._duration.observe((interface, route), seconds)

    def stream_opened(self, interface: str) -> None:
        self._streams.add((interface,), 1.0)

    def stream_closed(self, interface: str) -> None:
        self._streams.add((interface,), -1.0)

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
        prompt, completion, cached, reasoning = tokens
        counter = self._tokens
        keyed = (key or "",) if self._key_labels else ()
        if prompt:
            counter.inc((route, vendor, "prompt", *keyed), prompt)
        if completion:
            counter.inc((route, vendor, "completion", *keyed), completion)
        if cached:
            counter.inc((route, vendor, "cached", *keyed), cached)
        if reasoning:
            counter.inc((route, vendor, "reasoning", *keyed), reasoning)
        if ttft_seconds is not None:
            self._ttft.observe((interface, route, vendor), ttft_seconds)
        if cost is not None and cost[0]:
            self._cost.inc((route, vendor, cost[1], *keyed), cost[0])

    # ---- routing ---------------------------------------------------------------------------

    def attempt(self, route: str, deployment: int, outcome: str) -> None:
        self._attempts.inc((route, str(deployment), outcome))

    def retry(self, route: str, deployment: int) -> None:
        self._retries.inc((route, str(deployment)))

    def fallback(self, requested: str, served: str) -> None:
        self._fallbacks.inc((requested, served))

    def watch_circuits(self, source: CircuitSource) -> None:
        """Report circuit states, read from `source` at each scrape (not on the hot path)."""
        self.registry.register(_CircuitCollector(source))

    # ---- limits ----------------------------------------------------------------------------

    def rejected(self, kind: str) -> None:
        self._rejections.inc((kind,))

    # ---- the usage writer ------------------------------------------------------------------

    def watch_usage_queue(self, depth: Callable[[], int]) -> None:
        """Report the writer's queue depth, read at each scrape."""
        self.registry.register(
            _GaugeCallback(
                "lowart_usage_queue_depth",
                "Usage records waiting to be written to the database.",
                depth,
            )
        )

    def usage_batch(self, seconds: float, rows: int) -> None:
        self._batch.observe((), seconds)
        self._written.inc((), rows)

    def usage_quarantined(self) -> None:
        self._quarantined.inc(())

    # ---- Lua transforms and image jobs -----------------------------------------------------

    def lua_call(self, route: str, phase: str, seconds: float, failed: bool) -> None:
        key = (route, phase)
        self._lua_calls.inc(key)
        self._lua_seconds.observe(key, seconds)
        if failed:
            self._lua_errors.inc(key)

    def image_job(self, state: str) -> None:
        self._image_jobs.inc((state,))

    def tool_call(
        self, server: str, tool: str, decision: str, outcome: str, seconds: float | None
    ) -> None:
        """One upstream tool call (`seconds` set) or refusal (None: it never ran)."""
        self._tool_calls.inc((server, tool, decision, outcome))
        if seconds is not None:
            self._tool_seconds.observe((server,), seconds)

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

    def tool_call(self, *args: Any) -> None:
        pass


class _Families(Collector):
    """The families above, as prometheus-client's registry collects them."""

    def __init__(self, families: list[Any]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield from family.collect()


class _GaugeCallback(Collector):
    def __init__(self, name: str, doc: str, read: Callable[[], int]) -> None:
        self._name, self._doc, self._read = name, doc, read

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self._name, self._doc, value=float(self._read()))


class _CircuitCollector(Collector):
    def __init__(self, source: CircuitSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "lowart_circuit_state",
            "Circuit breaker state per deployment in this process (1 for the current state).",
            labels=("route", "deployment", "state"),
        )
        for route, deployment, current in self._source():
            for state in _CIRCUIT_STATES:
                family.add_metric((route, deployment, state), 1.0 if state == current else 0.0)
        yield family

"""Counters, gauges and histograms as plain dicts, turned into Prometheus families at scrape.

prometheus-client's own metric objects take a lock on every update and do
a few calls of bookkeeping each (~0.3-1 µs an update, and a histogram
observation several); a request updates a dozen. Every update in lowart
happens on the event loop's thread, so a dict entry per label set is enough:
recording is one dict lookup and an add, and the work of formatting happens
when Prometheus scrapes (`collect`), once per series instead of once per request.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

__all__ = ["CounterFamily", "GaugeFamily", "HistogramFamily"]

Labels = tuple[str, ...]


class CounterFamily:
    """A counter per label set (`name` without `_total`, Prometheus adds it)."""

    __slots__ = ("doc", "labels", "name", "values")

    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.values: dict[Labels, float] = {}

    def inc(self, key: Labels = (), amount: float = 1.0) -> None:
        values = self.values
        values[key] = values.get(key, 0.0) + amount

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.doc, labels=self.labels)
        for key, value in list(self.values.items()):
            family.add_metric(key, value)
        yield family


class GaugeFamily:
    """A gauge per label set; moved up and down by the code that owns what it counts."""

    __slots__ = ("doc", "labels", "name", "values")

    def __init__(self, name: str, doc: str, labels: Sequence[str] = ()) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.values: dict[Labels, float] = {}

    def add(self, key: Labels, amount: float) -> None:
        values = self.values
        values[key] = values.get(key, 0.0) + amount

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.doc, labels=self.labels)
        for key, value in list(self.values.items()):
            family.add_metric(key, value)
        yield family


class HistogramFamily:
    """A histogram per label set: a count per bucket (non-cumulative), the sum, the count."""

    __slots__ = ("bounds", "doc", "labels", "name", "sums", "values")

    def __init__(self, name: str, doc: str, labels: Sequence[str], bounds: Sequence[float]) -> None:
        self.name, self.doc, self.labels = name, doc, tuple(labels)
        self.bounds = tuple(sorted(bounds))
        self.values: dict[Labels, list[int]] = {}
        self.sums: dict[Labels, float] = {}

    def observe(self, key: Labels, value: float) -> None:
        counts = self.values.get(key)
        if counts is None:
            counts = self.values[key] = [0] * (len(self.bounds) + 1)
            self.sums[key] = 0.0
        counts[bisect_left(self.bounds, value)] += 1  # `le` buckets: value <= bound
        self.sums[key] += value

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.doc, labels=self.labels)
        edges = [_le(bound) for bound in self.bounds] + ["+Inf"]
        for key, counts in list(self.values.items()):
            running, buckets = 0, []
            for edge, count in zip(edges, counts, strict=True):
                running += count
                buckets.append((edge, float(running)))
            family.add_metric(key, buckets, self.sums[key])
        yield family


def _le(bound: float) -> str:
    return repr(float(bound))

"""What the gateway tells operators about itself: Prometheus metrics and traces.

The lowest layer of lowart: every other layer records into it (the Gateway,
routing, transforms, the usage writer, image jobs) and it imports none of
them. Both halves cost next to nothing when switched off: `Metrics.disabled()`
records nothing, and without `OTEL_*` settings tracing hands out one shared
no-op span and the OpenTelemetry SDK is never imported.
"""

from lowart.telemetry._metrics import METRICS_MODES, Metrics, status_class
from lowart.telemetry._span import NO_SPAN, Span, valid_traceparent
from lowart.telemetry._tracing import NO_TRACING, Tracing, open_tracing, tracing_wanted

__all__ = [
    "METRICS_MODES",
    "NO_SPAN",
    "NO_TRACING",
    "Metrics",
    "Span",
    "Tracing",
    "open_tracing",
    "status_class",
    "tracing_wanted",
    "valid_traceparent",
]

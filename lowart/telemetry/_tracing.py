"""Tracing on or off, decided once from the standard `OTEL_*` settings.

Off (no exporter configured, or `OTEL_SDK_DISABLED=true`), `NO_TRACING`
hands out the shared no-op span and nothing of OpenTelemetry is imported. On,
`_otel.OtelTracing` builds this gateway's own tracer provider (never the
global one: tests run several gateways in one process) exporting over OTLP.
"""

from __future__ import annotations

from collections.abc import Mapping

from lowart.telemetry._span import NO_SPAN, AttributeValue, Span

__all__ = ["NO_TRACING", "Tracing", "open_tracing", "tracing_wanted"]


class Tracing:
    """Starts the spans that have no parent in this process; this base traces nothing."""

    enabled = False

    def request(
        self,
        name: str,
        traceparent: str | None,
        attributes: Mapping[str, AttributeValue | None] | None = None,
    ) -> Span:
        """The span of one incoming request, continuing the caller's `traceparent`."""
        return NO_SPAN

    def root(
        self, name: str, attributes: Mapping[str, AttributeValue | None] | None = None
    ) -> Span:
        """A span of the gateway's own work (a usage batch write)."""
        return NO_SPAN

    async def close(self) -> None:
        """Export what is still buffered, then stop."""


NO_TRACING = Tracing()


def tracing_wanted(otel: Mapping[str, str]) -> bool:
    """Whether the `OTEL_*` settings ask for traces to be exported."""
    if otel.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = otel.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        otel.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or otel.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def open_tracing(otel: Mapping[str, str]) -> Tracing:
    """The gateway's tracing for these `OTEL_*` settings (the SDK loads only if wanted)."""
    if not tracing_wanted(otel):
        return NO_TRACING
    from lowart.telemetry._otel import OtelTracing

    return OtelTracing(otel)

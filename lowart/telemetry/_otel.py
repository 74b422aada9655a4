"""Tracing with the OpenTelemetry SDK, exporting over OTLP (imported only when wanted).

Each gateway builds its own `TracerProvider` from the `OTEL_*` settings it was
started with (`Settings.otel`): the endpoint, headers, service name, resource
attributes, sampler and batch delay come from there; what the exporter reads
on its own (timeouts, compression, certificates) it reads from the process's
environment, as the OpenTelemetry specification describes. Spans are handed
to a `BatchSpanProcessor`, whose own thread does the exporting: the event
loop only ever builds spans.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from lowart.telemetry._span import NO_SPAN, AttributeValue, Span
from lowart.telemetry._tracing import Tracing

__all__ = ["OtelSpan", "OtelTracing"]

log = logging.getLogger("lowart.telemetry")

_PROPAGATOR = TraceContextTextMapPropagator()
_DEFAULT_ENDPOINT = "http://localhost:4318"


class OtelSpan(Span):
    __slots__ = ("_ended", "_span", "_tracer")
    recording = True

    def __init__(self, tracer: trace.Tracer, span: trace.Span) -> None:
        self._tracer = tracer
        self._span = span
        self._ended = False

    def set(self, key: str, value: AttributeValue | None) -> None:
        if value is not None:
            self._span.set_attribute(key, value)

    def set_many(self, attributes: Mapping[str, AttributeValue | None]) -> None:
        self._span.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def child(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue | None] | None = None,
        *,
        client: bool = False,
    ) -> Span:
        span = self._tracer.start_span(
            name,
            context=trace.set_span_in_context(self._span),
            kind=SpanKind.CLIENT if client else SpanKind.INTERNAL,
            attributes=_clean(attributes),
        )
        return OtelSpan(self._tracer, span)

    def fail(self, error_type: str, message: str | None = None) -> None:
        self._span.set_attribute("error.type", error_type)
        self._span.set_status(Status(StatusCode.ERROR, message))

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            self._span.end()

    def traceparent(self) -> str | None:
        context = self._span.get_span_context()
        if not context.is_valid:
            return None
        return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


class OtelTracing(Tracing):
    enabled = True

    def __init__(self, otel: Mapping[str, str]) -> None:
        self._provider = TracerProvider(resource=_resource(otel), sampler=_sampler(otel))
        exporter_name = otel.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
        exporter: SpanExporter
        if exporter_name == "console":
            exporter = ConsoleSpanExporter()
            self._provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            if exporter_name != "otlp":
                log.warning("OTEL_TRACES_EXPORTER=%s is not supported; using otlp", exporter_name)
            exporter = _otlp_exporter(otel)
            delay = otel.get("OTEL_BSP_SCHEDULE_DELAY")
            self._provider.add_span_processor(
                BatchSpanProcessor(exporter, schedule_delay_millis=float(delay) if delay else None)
            )
        self._tracer = self._provider.get_tracer("lowart")

    def request(
        self,
        name: str,
        traceparent: str | None,
        attributes: Mapping[str, AttributeValue | None] | None = None,
    ) -> Span:
        context = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else None
        span = self._tracer.start_span(
            name, context=context, kind=SpanKind.SERVER, attributes=_clean(attributes)
        )
        if not span.is_recording():  # not sampled: the request costs no more than untraced
            return NO_SPAN
        return OtelSpan(self._tracer, span)

    def root(
        self, name: str, attributes: Mapping[str, AttributeValue | None] | None = None
    ) -> Span:
        span = self._tracer.start_span(
            name,
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            attributes=_clean(attributes),
        )
        return OtelSpan(self._tracer, span)

    async def close(self) -> None:
        # Both block on the exporter's thread and network: never on the event loop.
        await asyncio.to_thread(self._provider.shutdown)


def _clean(attributes: Mapping[str, AttributeValue | None] | None) -> dict[str, Any] | None:
    if not attributes:
        return None
    return {k: v for k, v in attributes.items() if v is not None}


def _pairs(text: str) -> dict[str, str]:
    """`k1=v1,k2=v2` (the format of OTEL_RESOURCE_ATTRIBUTES and the headers settings)."""
    found: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if sep and name.strip():
            found[unquote(name.strip())] = unquote(value.strip())
    return found


def _resource(otel: Mapping[str, str]) -> Resource:
    attributes: dict[str, Any] = dict(_pairs(otel.get("OTEL_RESOURCE_ATTRIBUTES", "")))
    attributes["service.name"] = otel.get("OTEL_SERVICE_NAME") or attributes.get(
        "service.name", "lowart"
    )
    return Resource.create(attributes)


def _sampler(otel: Mapping[str, str]) -> Sampler:
    name = otel.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    try:
        ratio = float(otel.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
    except ValueError:
        ratio = 1.0
    samplers: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": TraceIdRatioBased(ratio),
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
        "parentbased_traceidratio": ParentBased(TraceIdRatioBased(ratio)),
    }
    if name not in samplers:
        log.warning("OTEL_TRACES_SAMPLER=%s is not supported; sampling every trace", name)
    return samplers.get(name, samplers["parentbased_always_on"])


def _otlp_exporter(otel: Mapping[str, str]) -> SpanExporter:
    protocol = (
        otel.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or otel.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    headers = _pairs(
        otel.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or otel.get("OTEL_EXPORTER_OTLP_HEADERS", "")
    )
    endpoint = otel.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            log.warning(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs opentelemetry-exporter-otlp-proto-grpc "
                "installed; exporting over http/protobuf instead"
            )
        else:
            exporter: SpanExporter = GrpcExporter(
                endpoint=endpoint or otel.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
                headers=headers or None,
            )
            return exporter
    if not endpoint:  # the signal's path goes on the shared base endpoint (OTLP/HTTP spec)
        base = otel.get("OTEL_EXPORTER_OTLP_ENDPOINT") or _DEFAULT_ENDPOINT
        endpoint = base.rstrip("/") + "/v1/traces"
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, headers=headers or None)

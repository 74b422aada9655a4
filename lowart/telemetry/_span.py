"""The span the engine writes to: a no-op by default, an OpenTelemetry span when tracing.

The engine only ever talks to this small interface, so a gateway without
tracing pays one attribute lookup and an empty call where a traced one would
record, and never imports the OpenTelemetry SDK.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["NO_SPAN", "AttributeValue", "Span", "valid_traceparent"]

_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")

AttributeValue = str | bool | int | float


class Span:
    """A span that records nothing (the base of the real one, `_otel.OtelSpan`).

    `recording` lets a caller skip building attributes nobody will see.
    """

    __slots__ = ()
    recording = False

    def set(self, key: str, value: AttributeValue | None) -> None:
        """One attribute (None values are left out)."""

    def set_many(self, attributes: Mapping[str, AttributeValue | None]) -> None:
        """Several attributes (None values are left out)."""

    def child(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue | None] | None = None,
        *,
        client: bool = False,
    ) -> Span:
        """A span inside this one (`client`: a call out of the process, e.g. upstream)."""
        return self

    def fail(self, error_type: str, message: str | None = None) -> None:
        """Mark the span as failed (`error.type` and an ERROR status)."""

    def end(self) -> None:
        """End the span (once; later calls do nothing)."""

    def traceparent(self) -> str | None:
        """The W3C `traceparent` that makes a callee's spans children of this one."""
        return None


NO_SPAN = Span()


def valid_traceparent(value: str | None) -> str | None:
    """A caller's W3C `traceparent` if it is well-formed (version 00 shape, ids not all
    zero), else None: only a valid one is continued or forwarded to an upstream."""
    if not value or len(value) > 128:
        return None
    value = value.strip()
    match = _TRACEPARENT.fullmatch(value)
    if match is None or value.startswith("ff"):
        return None
    if not match[1].strip("0") or not match[2].strip("0"):  # all-zero ids are invalid
        return None
    return value

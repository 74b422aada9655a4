"""What every vendor adapter provides, and the pieces they share.

An adapter turns a canonical (OpenAI-shaped) request into vendor calls and the
vendor's replies back into canonical responses and stream chunks. It knows
nothing of keys, limits, the database or the client's protocol.

The route's transforms (its `VendorHooks`) are applied here, in the base class,
around the vendor steps a subclass implements, so no adapter applies (or can
forget) them itself:

    complete: vendor_payload -> hooks.request -> send -> hooks.response -> decode_reply
    stream:   vendor_payload -> hooks.request -> send_stream, each vendor event
              -> hooks.event (None drops it) -> the stream decoder -> canonical chunks
    embed:    embeddings_payload -> hooks.request -> send_embeddings -> hooks.response

Scripts therefore always see the vendor's own format: the payload just before it
is sent, the reply or each stream event just after it arrives.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson

from lowart.accounting import count_prompt_tokens_off_loop
from lowart.adapters._redact import redact
from lowart.errors import (
    GatewayError,
    InvalidRequest,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lowart.types import CallContext, ChatChunk, ChatRequest, ChatResponse, Route, VendorHooks
from lowart.upstream import (
    ConnectFailed,
    ConnectionDropped,
    EventTooLarge,
    InvalidRequestHeader,
    Timeouts,
    TransportError,
)

__all__ = [
    "Adapter",
    "EventDecoder",
    "parse_retry_after",
    "timeout_for",
    "translate_transport_error",
    "upstream_error_from_body",
    "upstream_text",
]

EventDecoder = Callable[[dict[str, Any]], Iterable[ChatChunk]]
"""Turns one vendor stream event into the canonical chunks it stands for (zero or more)."""


class Adapter(ABC):
    """The template every vendor fills in; `complete` and `stream` are not overridden.

    A subclass implements the vendor steps: `vendor_payload`, `send` and
    `send_stream`, and `decode_reply` / `stream_decoder` when the vendor's
    replies are not already canonical (OpenAI-shaped).
    """

    vendor: str
    generates_images = False
    """True for `ImageAdapter`s: their routes make images, not chat answers."""

    # ---- the template: where the route's transforms apply, for every vendor ------------

    async def complete(
        self,
        route: Route,
        request: ChatRequest,
        ctx: CallContext,
        hooks: VendorHooks | None = None,
    ) -> ChatResponse:
        """One non-streaming call; raises a GatewayError on any failure."""
        payload = self.transform_request(
            self.vendor_payload(route, request, ctx, stream=False), hooks
        )
        reply = await self.send(route, payload, ctx)
        if hooks is not None:
            reply = hooks.response(reply)
        return self.decode_reply(route, reply, ctx)

    def stream(
        self,
        route: Route,
        request: ChatRequest,
        ctx: CallContext,
        hooks: VendorHooks | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """An async iterator of canonical chunks; closing it cancels the upstream call.

        The payload is built (and transformed) now; nothing is sent before the
        first chunk is asked for. The vendor's own iterator is returned, never
        wrapped: without hooks, a vendor whose events are canonical costs nothing
        per chunk beyond its own work.
        """
        payload = self.transform_request(
            self.vendor_payload(route, request, ctx, stream=True), hooks
        )
        decode = self.stream_decoder(route, ctx)
        if hooks is not None:
            decode = _transformed(hooks.event, decode)
        return self.send_stream(route, payload, ctx, decode)

    async def embed(
        self,
        route: Route,
        request: dict[str, Any],
        ctx: CallContext,
        hooks: VendorHooks | None = None,
    ) -> dict[str, Any]:
        """One embeddings call (OpenAI's shape in and out: `data`, `usage`); raises a
        GatewayError on any failure, and InvalidRequest for a vendor without embeddings."""
        payload = self.transform_request(self.embeddings_payload(route, request, ctx), hooks)
        reply = await self.send_embeddings(route, payload, ctx)
        return reply if hooks is None else hooks.response(reply)

    @staticmethod
    def transform_request(payload: dict[str, Any], hooks: VendorHooks | None) -> dict[str, Any]:
        """The one point a vendor payload meets the route's request transform
        (chat calls above, and vendor calls outside chat such as ComfyUI's prompts)."""
        return payload if hooks is None else hooks.request(payload)

    # ---- the vendor steps -----------------------------------------------------------------

    @abstractmethod
    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        """The vendor-shaped body for this request (before the request transform)."""

    @abstractmethod
    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        """Send a (transformed) payload; the vendor's reply, parsed and checked."""

    def decode_reply(self, route: Route, reply: dict[str, Any], ctx: CallContext) -> ChatResponse:
        """The canonical response for a (transformed) vendor reply; as is by default."""
        return reply  # type: ignore[return-value]

    def stream_decoder(self, route: Route, ctx: CallContext) -> EventDecoder | None:
        """A fresh decoder for one stream, or None when the vendor's events already
        are canonical chunks (the default)."""
        return None

    @abstractmethod
    def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        """Send a (transformed) payload and yield `decode(event)` for each vendor event,
        or each event itself when `decode` is None (canonical events and no transform).

        `decode` already applies the route's event transform, so every event must
        go through it; the iterator ends when the vendor's stream does.
        """

    # ---- optional -------------------------------------------------------------------------

    def embeddings_payload(
        self, route: Route, request: dict[str, Any], ctx: CallContext
    ) -> dict[str, Any]:
        """The vendor-shaped embeddings body (OpenAI's, with the upstream model name)."""
        return {**request, "model": route.upstream_model}

    async def send_embeddings(
        self, route: Route, payload: dict[str, Any], ctx: CallContext
    ) -> dict[str, Any]:
        """Send an embeddings payload; the vendor's reply. Vendors without embeddings say so."""
        raise InvalidRequest(
            f"Model '{route.name}' ({self.vendor}) does not serve embeddings.", param="model"
        )

    async def count_tokens(self, route: Route, request: ChatRequest, ctx: CallContext) -> int:
        """Prompt tokens of a request; the gateway's tokenizer unless the vendor can count."""
        return await count_prompt_tokens_off_loop(request, route.upstream_model)

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release vendor-specific resources (the shared HTTP session is not the adapter's)."""


def _transformed(
    event_hook: Callable[[dict[str, Any]], dict[str, Any] | None], decode: EventDecoder | None
) -> EventDecoder:
    """`decode` behind the route's event transform (a dropped event yields nothing)."""
    if decode is None:

        def transformed(event: dict[str, Any]) -> Iterable[ChatChunk]:
            kept = event_hook(event)
            return () if kept is None else (kept,)  # type: ignore[return-value]

    else:

        def transformed(event: dict[str, Any]) -> Iterable[ChatChunk]:
            kept = event_hook(event)
            return () if kept is None else decode(kept)

    return transformed


def timeout_for(route: Route, ctx: CallContext, default: Timeouts) -> Timeouts:
    """The upstream timeouts for one call: per-route options and the caller's deadline win."""
    options = route.options
    if "connect_timeout" not in options and "read_timeout" not in options and not ctx.timeout:
        return default
    total = None
    if ctx.timeout:  # the caller's budget runs from the start of the call, not of this attempt
        total = max(ctx.timeout - (time.perf_counter() - ctx.started), 0.001)
    return Timeouts(
        connect=options.get("connect_timeout", default.connect),
        read=options.get("read_timeout", default.read),
        total=total,
    )


def _message_from_body(body: bytes) -> str:
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return text[:500] if text else ""
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed)
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail") or error.get("type")
            if message:
                return str(message)[:2000]
        elif isinstance(error, str):
            return error[:2000]
        detail = parsed.get("detail")
        if isinstance(detail, str):
            return detail[:2000]
    return body.decode("utf-8", "replace")[:500]


def upstream_error_from_body(
    route: Route, status: int, body: bytes, retry_after: str | None = None
) -> UpstreamError:
    """The vendor's own message and status, never its raw bytes or our stack.

    `retry_after` is the vendor's Retry-After header: retries wait for it and a
    client that finally gets this error sees it too.
    """
    message = upstream_text(route, _message_from_body(body)) or f"HTTP {status}"
    return UpstreamError(
        f"Upstream for model '{route.name}' answered {status}: {message}",
        upstream_status=status,
        retry_after=parse_retry_after(retry_after),
    )


def upstream_text(route: Route, text: str) -> str:
    """Text from an upstream, fit to pass on: without the route's key (whole or in
    part) or anything else that looks like a credential. Every vendor message a
    caller may see goes through here."""
    return redact(text, (route.api_key,))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent/bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def translate_transport_error(route: Route, exc: BaseException) -> GatewayError:
    """Map client/asyncio failures to the gateway's vocabulary (used as `raise ... from exc`).

    The error's `cause` keeps the exact reason (dns, refused, tls, reset, which
    timeout, ...) for the operator; the client gets the gateway's usual words."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, TransportError):
        return _from_transport_error(route, exc)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamTimeout(f"Upstream for model '{route.name}' timed out.", cause="timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamUnavailable(
            f"Upstream for model '{route.name}' is unreachable.", cause=_aiohttp_reason(exc)
        )
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        return UpstreamError(
            f"Upstream for model '{route.name}' dropped the connection.", cause="closed"
        )
    return UpstreamError(
        f"Upstream for model '{route.name}' failed: {type(exc).__name__}.",
        cause="transport_error",
    )


def _aiohttp_reason(exc: aiohttp.ClientConnectorError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientConnectorSSLError):
        return "tls"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns"
    if isinstance(exc.os_error, ConnectionRefusedError):
        return "refused"
    return "connect_error"


def _from_transport_error(route: Route, exc: TransportError) -> GatewayError:
    cause = exc.reason
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout(f"Upstream for model '{route.name}' timed out.", cause=cause)
    if isinstance(exc, ConnectFailed):
        return UpstreamUnavailable(
            f"Upstream for model '{route.name}' is unreachable.", cause=cause
        )
    if isinstance(exc, ConnectionDropped):
        return UpstreamError(
            f"Upstream for model '{route.name}' dropped the connection.", cause=cause
        )
    if isinstance(exc, EventTooLarge):
        return UpstreamError(
            f"Upstream for model '{route.name}' sent a stream event larger than "
            f"{exc.limit} bytes (LOWART_UPSTREAM_MAX_EVENT_BYTES).",
            cause=cause,
        )
    if isinstance(exc, InvalidRequestHeader):
        return GatewayError(
            f"Model '{route.name}' is configured with a header value that cannot be sent "
            "(line break or non-Latin-1 text).",
            cause="invalid_request_header",
        )
    return UpstreamError(
        f"Upstream for model '{route.name}' sent an invalid HTTP response.", cause=cause
    )

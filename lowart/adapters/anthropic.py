"""Anthropic upstreams: the Messages API (`POST {base_url}/v1/messages`).

Canonical requests are translated to the Messages API and replies back by
`lowart.translate`; this module only moves bytes and maps failures. When the
caller itself spoke the Messages API (`ctx.passthrough`), its body is sent as
is (model swapped), so prompt caching, thinking, documents and server tools
reach the upstream untouched, and the upstream's own reply or events travel
back on the canonical response or chunks (`lowart_anthropic_message`,
`lowart_anthropic_events`). Transforms (applied by the `Adapter` base class)
always see Anthropic-format payloads.

Route options: `max_tokens` (default when the request has none, else
`DEFAULT_MAX_TOKENS`), `anthropic_version` (default 2023-06-01),
`anthropic_beta` (sent as the `anthropic-beta` header, joined with the one a
passthrough caller sent), `connect_timeout`,
`read_timeout`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

import orjson

from lowart.accounting import count_prompt_tokens_off_loop
from lowart.adapters.base import (
    Adapter,
    EventDecoder,
    timeout_for,
    translate_transport_error,
    upstream_error_from_body,
    upstream_text,
)
from lowart.errors import GatewayError, ProviderKeyMissing, UpstreamError
from lowart.translate import (
    DEFAULT_MAX_TOKENS,
    AnthropicToOpenAIStream,
    anthropic_error_status,
    anthropic_response_to_openai,
    openai_request_to_anthropic,
)
from lowart.types import CallContext, ChatChunk, ChatRequest, ChatResponse, Route
from lowart.upstream import SSEParser, TransportError, UpstreamClient

__all__ = ["AnthropicAdapter"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_JSON = "application/json"
# What /v1/messages/count_tokens accepts of a Messages body.
_COUNT_FIELDS = ("messages", "system", "tools", "tool_choice", "thinking", "mcp_servers")


class AnthropicAdapter(Adapter):
    vendor = "anthropic"

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        native = _native_body(ctx)
        if native is not None:
            payload = {**native, "model": route.upstream_model}
        else:
            payload = self._translate(route, request)
        if stream:
            payload["stream"] = True
        else:
            payload.pop("stream", None)
        return payload

    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        status, body, retry_after = await self._post(route, ctx, "/v1/messages", payload)
        if status >= 400:
            raise _upstream_error(route, status, body, retry_after)
        data = _parse_object(route, body)
        if data.get("type") != "message":
            raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
        return data

    def decode_reply(self, route: Route, reply: dict[str, Any], ctx: CallContext) -> ChatResponse:
        response: ChatResponse = anthropic_response_to_openai(reply)  # type: ignore[assignment]
        if _native_body(ctx) is not None:
            response["lowart_anthropic_message"] = reply
        return response

    def stream_decoder(self, route: Route, ctx: CallContext) -> EventDecoder:
        converter = AnthropicToOpenAIStream(route.upstream_model)
        return partial(_chunks_for, route, converter, _native_body(ctx) is not None)

    async def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        if decode is None:  # stream_decoder never says None: events need translating
            decode = self.stream_decoder(route, ctx)
        try:
            async with self._client.post(
                self._url(route, "/v1/messages"),
                orjson.dumps(payload),
                self._headers(route, ctx),
                timeout_for(route, ctx, self._client.timeouts),
            ) as resp:
                if resp.status >= 400:
                    raise _upstream_error(
                        route, resp.status, await resp.read(), resp.header("retry-after")
                    )
                parser = SSEParser(self._client.max_event_bytes)
                while True:  # events are handled as each network read completes them
                    raw = await resp.next_chunk()
                    for _name, data in parser.feed(raw) if raw is not None else parser.close():
                        event = _parse_object(route, data)
                        for chunk in decode(event):
                            yield chunk
                        if event.get("type") == "message_stop":
                            await resp.finish()
                            return
                    if raw is None:
                        break
            raise UpstreamError(f"Upstream for model '{route.name}' ended the stream early.")
        except GatewayError:
            raise
        except TransportError as exc:
            raise translate_transport_error(route, exc) from exc

    async def count_tokens(self, route: Route, request: ChatRequest, ctx: CallContext) -> int:
        """Ask the upstream's count_tokens; count locally only if it cannot answer."""
        native = _native_body(ctx)
        body = native if native is not None else self._translate(route, request)
        payload = {name: body[name] for name in _COUNT_FIELDS if name in body}
        payload["model"] = route.upstream_model
        try:
            status, reply, _ = await self._post(route, ctx, "/v1/messages/count_tokens", payload)
        except GatewayError:  # unreachable or timed out: the local tokenizer still answers
            return await count_prompt_tokens_off_loop(request, route.upstream_model)
        if status in (404, 405):  # an Anthropic-compatible server without the endpoint
            return await count_prompt_tokens_off_loop(request, route.upstream_model)
        if status >= 400:
            raise _upstream_error(route, status, reply)
        tokens = _parse_object(route, reply).get("input_tokens")
        if not isinstance(tokens, int):
            raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
        return tokens

    @staticmethod
    def _translate(route: Route, request: ChatRequest) -> dict[str, Any]:
        default = route.options.get("max_tokens") or DEFAULT_MAX_TOKENS
        return openai_request_to_anthropic(
            dict(request), model=route.upstream_model, default_max_tokens=default
        )

    async def _post(
        self, route: Route, ctx: CallContext, path: str, payload: dict[str, Any]
    ) -> tuple[int, bytes, str | None]:
        """Status, body and the `retry-after` header (retries and clients honour it)."""
        try:
            async with self._client.post(
                self._url(route, path),
                orjson.dumps(payload),
                self._headers(route, ctx),
                timeout_for(route, ctx, self._client.timeouts),
            ) as resp:
                return resp.status, await resp.read(), resp.header("retry-after")
        except TransportError as exc:
            raise translate_transport_error(route, exc) from exc

    @staticmethod
    def _url(route: Route, path: str) -> str:
        base = (route.base_url or DEFAULT_BASE_URL).rstrip("/")
        if base.endswith("/v1"):  # accept the OpenAI-style base URL too
            base = base[:-3]
        return base + path

    @staticmethod
    def _headers(route: Route, ctx: CallContext) -> dict[str, str]:
        headers = {
            "Content-Type": _JSON,
            "Accept": _JSON,
            "anthropic-version": str(route.options.get("anthropic_version") or API_VERSION),
        }
        betas = [str(route.options.get("anthropic_beta") or "")]
        if ctx.passthrough is not None and ctx.passthrough.protocol == "anthropic":
            betas.append(ctx.passthrough.headers.get("anthropic-beta", ""))
        beta = ",".join(b for b in betas if b)
        if beta:
            headers["anthropic-beta"] = beta
        if route.api_key:
            headers["x-api-key"] = route.api_key
        elif route.api_key_env:
            raise ProviderKeyMissing(route.name, route.api_key_env)
        traceparent = ctx.upstream_traceparent()
        if traceparent is not None:
            headers["traceparent"] = traceparent
        return headers


def _native_body(ctx: CallContext) -> Mapping[str, Any] | None:
    passthrough = ctx.passthrough
    return passthrough.body if passthrough and passthrough.protocol == "anthropic" else None


def _chunks_for(
    route: Route, converter: AnthropicToOpenAIStream, native: bool, event: dict[str, Any]
) -> list[ChatChunk]:
    """The canonical chunks for one (transformed) event. The prompt's usage rides on
    message_start's chunk (for the meter), and a native caller's raw event on the first
    chunk."""
    kind = event.get("type")
    if kind == "error":
        raise _stream_error(route, event)
    chunks: list[ChatChunk] = converter.feed(event)  # type: ignore[assignment]
    if kind == "message_start" and chunks:
        chunks[0]["lowart_prompt_usage"] = converter.usage_so_far()  # type: ignore[typeddict-item]
    if native:
        if not chunks:
            chunks = [converter.blank_chunk()]  # type: ignore[list-item]
        chunks[0]["lowart_anthropic_events"] = [event]
    return chunks


def _parse_object(route: Route, body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError(f"Upstream for model '{route.name}' sent invalid JSON.") from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
    return data


def _error_type(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return error.get("type") if isinstance(error, dict) else None


def _keep_type(error: UpstreamError, error_type: str | None) -> UpstreamError:
    """Keep the upstream's own error type where its meaning is passed on: when its status
    is (a 4xx the caller caused), and for 'overloaded' (529; 503 for OpenAI clients).
    A refused provider key or a vendor fault stays the gateway's 502 `api_error`."""
    if error_type == "overloaded_error":
        error.anthropic_type = error_type
        error.code = "overloaded"
    elif error_type and error.status == error.upstream_status:
        error.anthropic_type = error_type
    return error


def _upstream_error(
    route: Route, status: int, body: bytes, retry_after: str | None = None
) -> UpstreamError:
    return _keep_type(upstream_error_from_body(route, status, body, retry_after), _error_type(body))


def _stream_error(route: Route, event: dict[str, Any]) -> UpstreamError:
    raw = event.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    error_type = error.get("type")
    message = error.get("message") or error_type or "unknown error"
    return _keep_type(
        UpstreamError(
            f"Upstream for model '{route.name}' failed mid-stream: "
            + upstream_text(route, str(message)),
            upstream_status=anthropic_error_status(error_type),
        ),
        error_type,
    )

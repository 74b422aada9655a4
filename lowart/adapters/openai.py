"""OpenAI-compatible upstreams (OpenAI, vLLM, llama.cpp server, Ollama, ...).

The canonical shape is OpenAI's, so this adapter is a pass-through: it swaps in
the upstream model name, always asks for streamed usage (the meter needs it),
and relays chunks as they arrive without buffering.

Route option `drop_params` (a list of field names) removes fields an upstream
refuses, e.g. `["reasoning_effort"]` for a model without reasoning when
Anthropic clients ask for thinking (mapped to `reasoning_effort`).

A route with the option `responses=native` serves the Responses API itself: a
caller that spoke it (`ctx.passthrough`) has its body sent to `{base_url}/responses`
as is (model swapped), and the upstream's own Response or events travel back on
the canonical reply or chunks (`lowart_responses_object`, `lowart_responses_events`)
next to their chat translation, which the engine meters. Transforms then see
Responses API payloads and events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

import orjson

from lowart.adapters.base import (
    Adapter,
    EventDecoder,
    timeout_for,
    translate_transport_error,
    upstream_error_from_body,
    upstream_text,
)
from lowart.errors import GatewayError, ProviderKeyMissing, UpstreamError
from lowart.translate import ResponsesEventsToChat, responses_reply_to_chat
from lowart.types import CallContext, ChatChunk, ChatRequest, ChatResponse, Route
from lowart.upstream import SSEParser, Timeouts, TransportError, UpstreamClient

__all__ = ["OpenAIAdapter"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_JSON = "application/json"


class OpenAIAdapter(Adapter):
    vendor = "openai"

    def __init__(self, client: UpstreamClient) -> None:
        self._client = client

    def _timeout_for(self, route: Route, ctx: CallContext) -> Timeouts:
        return timeout_for(route, ctx, self._client.timeouts)

    @staticmethod
    def _url(route: Route, path: str) -> str:
        return (route.base_url or DEFAULT_BASE_URL).rstrip("/") + path

    @staticmethod
    def _headers(route: Route, ctx: CallContext) -> dict[str, str]:
        headers = {"Content-Type": _JSON, "Accept": _JSON}
        if route.api_key:
            headers["Authorization"] = f"Bearer {route.api_key}"
        elif route.api_key_env:
            raise ProviderKeyMissing(route.name, route.api_key_env)
        traceparent = ctx.upstream_traceparent()  # the caller's trace goes on upstream
        if traceparent is not None:
            headers["traceparent"] = traceparent
        return headers

    def vendor_payload(
        self, route: Route, request: ChatRequest, ctx: CallContext, *, stream: bool
    ) -> dict[str, Any]:
        native = _native_body(route, ctx)
        if native is not None:
            return {**native, "model": route.upstream_model, "stream": stream}
        payload: dict[str, Any] = dict(request)
        payload["model"] = route.upstream_model
        dropped = route.options.get("drop_params")
        if isinstance(dropped, list):
            for name in dropped:
                if isinstance(name, str) and name != "model":
                    payload.pop(name, None)
        if stream:
            payload["stream"] = True
            payload["stream_options"] = {
                **(payload.get("stream_options") or {}),
                "include_usage": True,
            }
        else:
            payload.pop("stream", None)
            payload.pop("stream_options", None)
        return payload

    async def send(self, route: Route, payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        native = _native_body(route, ctx) is not None
        path, expected = ("/responses", "output") if native else ("/chat/completions", "choices")
        data = await self._post(route, path, payload, ctx)
        if expected not in data:
            raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
        return data

    async def send_embeddings(
        self, route: Route, payload: dict[str, Any], ctx: CallContext
    ) -> dict[str, Any]:
        """The upstream's /embeddings, the body passed through (model swapped)."""
        data = await self._post(route, "/embeddings", payload, ctx)
        if not isinstance(data.get("data"), list):
            raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
        return data

    async def _post(
        self, route: Route, path: str, payload: dict[str, Any], ctx: CallContext
    ) -> dict[str, Any]:
        """POST a JSON body; the reply object, or the upstream's error as a GatewayError."""
        try:
            async with self._client.post(
                self._url(route, path),
                orjson.dumps(payload),
                self._headers(route, ctx),
                self._timeout_for(route, ctx),
            ) as resp:
                body = await resp.read()
                status = resp.status
                if status >= 400:
                    raise upstream_error_from_body(route, status, body, resp.header("Retry-After"))
        except TransportError as exc:
            raise translate_transport_error(route, exc) from exc
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(f"Upstream for model '{route.name}' sent invalid JSON.") from exc
        if not isinstance(data, dict):
            raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
        return data

    def decode_reply(self, route: Route, reply: dict[str, Any], ctx: CallContext) -> ChatResponse:
        if _native_body(route, ctx) is None:
            return reply  # type: ignore[return-value]
        response: Any = responses_reply_to_chat(reply)
        response["lowart_responses_object"] = reply
        return response  # type: ignore[no-any-return]

    def stream_decoder(self, route: Route, ctx: CallContext) -> EventDecoder | None:
        if _native_body(route, ctx) is None:
            return None
        return partial(_native_chunks, route, ResponsesEventsToChat(route.upstream_model))

    async def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        try:
            native = _native_body(route, ctx) is not None
            async with self._client.post(
                self._url(route, "/responses" if native else "/chat/completions"),
                orjson.dumps(payload),
                self._headers(route, ctx),
                self._timeout_for(route, ctx),
            ) as resp:
                if resp.status >= 400:
                    raise upstream_error_from_body(
                        route, resp.status, await resp.read(), resp.header("Retry-After")
                    )
                parser = SSEParser(self._client.max_event_bytes)
                while True:  # events are handled as each network read completes them
                    raw = await resp.next_chunk()
                    for _event, data in parser.feed(raw) if raw is not None else parser.close():
                        if data == b"[DONE]":
                            await resp.finish()
                            return
                        chunk: Any = _parse_chunk(route, data)  # canonical already
                        if decode is None:
                            yield chunk
                        else:
                            for decoded in decode(chunk):
                                yield decoded
                    if raw is None:
                        return
        except GatewayError:
            raise
        except TransportError as exc:
            raise translate_transport_error(route, exc) from exc


def _native_body(route: Route, ctx: CallContext) -> Mapping[str, Any] | None:
    """The caller's Responses API body, when this route serves that API itself."""
    passthrough = ctx.passthrough
    if passthrough is None or passthrough.protocol != "responses":
        return None
    return passthrough.body if route.options.get("responses") == "native" else None


def _native_chunks(
    route: Route, converter: ResponsesEventsToChat, event: dict[str, Any]
) -> list[ChatChunk]:
    """The canonical chunks for one Responses API event, the event riding on the first."""
    kind = event.get("type")
    if kind in ("error", "response.failed"):
        error = event.get("error") if kind == "error" else (event.get("response") or {})
        detail = error.get("error") if isinstance(error, dict) and "error" in error else error
        message = detail.get("message") if isinstance(detail, dict) else None
        raise UpstreamError(
            f"Upstream for model '{route.name}' failed mid-stream: "
            + upstream_text(route, str(message or event.get("message") or "unknown error"))
        )
    chunks: Any = converter.feed(event) or [
        {"id": "", "object": "chat.completion.chunk", "created": 0, "choices": []}
    ]
    chunks[0]["lowart_responses_events"] = [event]
    return chunks  # type: ignore[no-any-return]


def _parse_chunk(route: Route, data: bytes) -> dict[str, Any]:
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError(
            f"Upstream for model '{route.name}' sent an invalid stream event."
        ) from exc
    if not isinstance(chunk, dict):
        raise UpstreamError(f"Upstream for model '{route.name}' sent an invalid stream event.")
    if "error" in chunk and not chunk.get("choices"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise UpstreamError(
            f"Upstream for model '{route.name}' failed mid-stream: "
            + upstream_text(route, str(message))
        )
    return chunk

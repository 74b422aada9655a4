"""OpenAI-compatible upstreams (OpenAI, vLLM, llama.cpp server, Ollama, ...).

The canonical shape is OpenAI's, so this adapter is a pass-through: it swaps in
the upstream model name, always asks for streamed usage (the meter needs it),
and relays chunks as they arrive without buffering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from lowart.types import CallContext, ChatChunk, ChatRequest, Route
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
    def _url(route: Route) -> str:
        return (route.base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"

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
        payload: dict[str, Any] = dict(request)
        payload["model"] = route.upstream_model
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
        try:
            async with self._client.post(
                self._url(route),
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
        if not isinstance(data, dict) or "choices" not in data:
            raise UpstreamError(f"Upstream for model '{route.name}' sent an unexpected reply.")
        return data

    async def send_stream(
        self,
        route: Route,
        payload: dict[str, Any],
        ctx: CallContext,
        decode: EventDecoder | None,
    ) -> AsyncIterator[ChatChunk]:
        try:
            async with self._client.post(
                self._url(route),
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

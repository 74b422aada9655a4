"""LowartClient (blocking) and AsyncLowartClient (asyncio) over one gRPC channel.

Both are thin: they attach the API key, build requests from plain values and
return the generated protobuf messages, which are typed (see the .pyi stubs).
Failures raise `grpc.RpcError` (`grpc.aio.AioRpcError`) with the gateway's
status code and message, e.g. UNAUTHENTICATED or NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

import grpc

from lowart_client._images import build_images_request
from lowart_client._messages import MessageLike, build_request
from lowart_client._proto import (
    chat_pb2,
    chat_pb2_grpc,
    images_pb2,
    images_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
)

__all__ = ["AsyncLowartClient", "LowartClient"]

Messages = MessageLike | Iterable[MessageLike]

# Keep idle connections warm and notice dead ones (the server allows pings every 10 s).
_CHANNEL_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
)


def _metadata(api_key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {api_key}"),)


class LowartClient:
    """A blocking client.

    `target` is `host:port`, `unix:///abs/path/lowart-grpc.sock` or `unix:relative/path`
    (relative to the working directory). `timeout` is
    the default deadline per call in seconds (None: no deadline); cancelling or
    abandoning a stream cancels the upstream request at the gateway.
    """

    def __init__(
        self,
        target: str,
        *,
        api_key: str,
        timeout: float | None = 600.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        if credentials is None:
            self._channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
        else:
            self._channel = grpc.secure_channel(target, credentials, options=_CHANNEL_OPTIONS)
        self._chat = chat_pb2_grpc.ChatServiceStub(self._channel)
        self._models = models_pb2_grpc.ModelServiceStub(self._channel)
        self._images = images_pb2_grpc.ImageServiceStub(self._channel)
        self._metadata = _metadata(api_key)
        self._timeout = timeout

    def chat(
        self, model: str, messages: Messages, *, timeout: float | None = None, **params: Any
    ) -> chat_pb2.CreateChatCompletionResponse:
        """One whole completion. `params`: temperature, max_tokens, stop, tools, extra={...}."""
        request = build_request(chat_pb2.CreateChatCompletionRequest, model, messages, params)
        return self._chat.CreateChatCompletion(
            request, metadata=self._metadata, timeout=timeout or self._timeout
        )

    def stream(
        self, model: str, messages: Messages, *, timeout: float | None = None, **params: Any
    ) -> Iterator[chat_pb2.StreamChatCompletionResponse]:
        """Stream messages as generated; the last one carries `usage`.

        Breaking out of the loop (or closing the iterator) cancels the call.
        """
        request = build_request(chat_pb2.StreamChatCompletionRequest, model, messages, params)
        call = self._chat.StreamChatCompletion(
            request, metadata=self._metadata, timeout=timeout or self._timeout
        )
        try:
            yield from call
        finally:
            call.cancel()  # no-op when the stream already ended

    def images(
        self,
        model: str,
        prompt: str,
        *,
        with_bytes: bool = True,
        image: bytes | None = None,
        image_type: str = "image/png",
        timeout: float | None = None,
        **options: Any,
    ) -> Iterator[images_pb2.GenerateImagesResponse]:
        """Generate images on an image model: progress events, one `image` per result,
        then a `summary`. `options`: negative_prompt, n, width, height, seed, steps, cfg.
        `image` starts the workflow from a picture. Leaving the loop early cancels the
        generation on the image server.
        """
        request = build_images_request(
            model,
            prompt,
            with_bytes=with_bytes,
            image=image,
            image_type=image_type,
            options=options,
        )
        call = self._images.GenerateImages(
            request, metadata=self._metadata, timeout=timeout or self._timeout
        )
        try:
            yield from call
        finally:
            call.cancel()

    def models(self) -> list[models_pb2.Model]:
        """The models this key may use."""
        reply = self._models.ListModels(
            models_pb2.ListModelsRequest(), metadata=self._metadata, timeout=self._timeout
        )
        return list(reply.models)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> LowartClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncLowartClient:
    """The asyncio twin of LowartClient; create and use it inside one event loop."""

    def __init__(
        self,
        target: str,
        *,
        api_key: str,
        timeout: float | None = 600.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        if credentials is None:
            self._channel = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.secure_channel(target, credentials, options=_CHANNEL_OPTIONS)
        self._chat = chat_pb2_grpc.ChatServiceStub(self._channel)
        self._models = models_pb2_grpc.ModelServiceStub(self._channel)
        self._images = images_pb2_grpc.ImageServiceStub(self._channel)
        self._metadata = _metadata(api_key)
        self._timeout = timeout

    async def chat(
        self,
        model: str,
        messages: Messages,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline the server sees too
        **params: Any,
    ) -> chat_pb2.CreateChatCompletionResponse:
        request = build_request(chat_pb2.CreateChatCompletionRequest, model, messages, params)
        return await self._chat.CreateChatCompletion(
            request, metadata=self._metadata, timeout=timeout or self._timeout
        )

    async def stream(
        self,
        model: str,
        messages: Messages,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline the server sees too
        **params: Any,
    ) -> AsyncIterator[chat_pb2.StreamChatCompletionResponse]:
        """Async-iterate the stream; leaving the loop early cancels the call."""
        request = build_request(chat_pb2.StreamChatCompletionRequest, model, messages, params)
        call = self._chat.StreamChatCompletion(
            request, metadata=self._metadata, timeout=timeout or self._timeout
        )
        try:
            async for message in call:
                yield message
        finally:
            call.cancel()

    async def images(
        self,
        model: str,
        prompt: str,
        *,
        with_bytes: bool = True,
        image: bytes | None = None,
        image_type: str = "image/png",
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline the server sees too
        **options: Any,
    ) -> AsyncIterator[images_pb2.GenerateImagesResponse]:
        """Async-iterate a generation (see LowartClient.images); leaving early cancels it."""
        request = build_images_request(
            model,
            prompt,
            with_bytes=with_bytes,
            image=image,
            image_type=image_type,
            options=options,
        )
        call = self._images.GenerateImages(
            request, metadata=self._metadata, timeout=timeout or self._timeout
        )
        try:
            async for message in call:
                yield message
        finally:
            call.cancel()

    async def models(self) -> list[models_pb2.Model]:
        reply = await self._models.ListModels(
            models_pb2.ListModelsRequest(), metadata=self._metadata, timeout=self._timeout
        )
        return list(reply.models)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncLowartClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

"""The servicers: decode the request, call the Gateway, encode the answer."""

from __future__ import annotations

import grpc

from lowart._proto import chat_pb2, chat_pb2_grpc, models_pb2, models_pb2_grpc
from lowart.frontends.grpc._decode import chat_request
from lowart.frontends.grpc._encode import chat_response, models_response, stream_response
from lowart.frontends.grpc._rpc import presented_key, rpc
from lowart.gateway import Gateway
from lowart.types import CallContext

__all__ = ["ChatServicer", "ModelServicer"]

Context = grpc.aio.ServicerContext


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @rpc
    async def CreateChatCompletion(
        self, request: chat_pb2.CreateChatCompletionRequest, context: Context, ctx: CallContext
    ) -> chat_pb2.CreateChatCompletionResponse:
        principal = await self._gateway.authenticate(presented_key(context))
        response = await self._gateway.complete(principal, chat_request(request, stream=False), ctx)
        return chat_response(response)

    @rpc
    async def StreamChatCompletion(
        self, request: chat_pb2.StreamChatCompletionRequest, context: Context, ctx: CallContext
    ) -> None:
        """Written with `context.write` rather than `yield`: a cancel or deadline then
        lands inside this coroutine, so `async with` closes the stream at once, which
        cancels the upstream call and records the tokens generated so far."""
        principal = await self._gateway.authenticate(presented_key(context))
        body = chat_request(request, stream=True)
        async with await self._gateway.open_stream(principal, body, ctx) as stream:
            async for chunk in stream:
                await context.write(stream_response(chunk))


class ModelServicer(models_pb2_grpc.ModelServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @rpc
    async def ListModels(
        self, request: models_pb2.ListModelsRequest, context: Context, ctx: CallContext
    ) -> models_pb2.ListModelsResponse:
        principal = await self._gateway.authenticate(presented_key(context))
        return models_response(self._gateway.models_for(principal))

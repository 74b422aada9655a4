"""The servicers: decode the request, call the Gateway, encode the answer."""

from __future__ import annotations

from lowart._proto import (
    chat_pb2,
    chat_pb2_grpc,
    images_pb2,
    images_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
)
from lowart.errors import GatewayError, InvalidRequest
from lowart.frontends.grpc._decode import chat_request
from lowart.frontends.grpc._encode import chat_response, models_response, stream_response
from lowart.frontends.grpc._images import (
    image_body,
    job_message,
    progress_response,
    result_responses,
    wants_bytes,
)
from lowart.frontends.grpc._rpc import Context, presented_key, rpc
from lowart.gateway import Gateway
from lowart.images import AcceptedJob, GenerationResult
from lowart.types import CallContext, Principal

__all__ = ["ChatServicer", "ImageServicer", "ModelServicer"]


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @rpc
    async def CreateChatCompletion(
        self, request: chat_pb2.CreateChatCompletionRequest, context: Context, ctx: CallContext
    ) -> chat_pb2.CreateChatCompletionResponse:
        principal = await self._gateway.authenticate(presented_key(context))
        self._gateway.check_model(principal, {"model": request.model})  # NOT_FOUND first
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
        self._gateway.check_model(principal, {"model": request.model})  # NOT_FOUND first
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


class ImageServicer(images_pb2_grpc.ImageServiceServicer):
    """Image generations and jobs: each method decodes, calls the Gateway, encodes."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def _caller(self, context: Context) -> tuple[Gateway, Principal]:
        return self._gateway, await self._gateway.authenticate(presented_key(context))

    @rpc
    async def GenerateImages(
        self, request: images_pb2.GenerateImagesRequest, context: Context, ctx: CallContext
    ) -> None:
        """Written with `context.write`, as StreamChatCompletion is: a cancel or deadline
        lands inside `async with`, which cancels the generation on ComfyUI."""
        gateway, principal = await self._caller(context)
        body, image = image_body(request.spec)
        with_bytes = wants_bytes(request)
        async with await gateway.open_generation(principal, body, ctx, image=image) as generation:
            async for event in generation:
                if isinstance(event, GenerationResult):
                    async for message in result_responses(event, with_bytes=with_bytes):
                        await context.write(message)
                else:
                    await context.write(progress_response(generation, event))

    @rpc
    async def CreateImageJob(
        self, request: images_pb2.CreateImageJobRequest, context: Context, ctx: CallContext
    ) -> images_pb2.CreateImageJobResponse:
        gateway, principal = await self._caller(context)
        body, image = image_body(request.spec)
        accepted = await gateway.generate_images(
            principal, body, ctx, force_async=True, image=image
        )
        if not isinstance(accepted, AcceptedJob):  # force_async always makes a job
            raise GatewayError("The image engine did not start a job.")
        return images_pb2.CreateImageJobResponse(job=job_message(accepted.job))

    @rpc
    async def GetImageJob(
        self, request: images_pb2.GetImageJobRequest, context: Context, ctx: CallContext
    ) -> images_pb2.GetImageJobResponse:
        gateway, principal = await self._caller(context)
        job = await gateway.get_job(principal, request.id, ctx)
        return images_pb2.GetImageJobResponse(job=job_message(job))

    @rpc
    async def ListImageJobs(
        self, request: images_pb2.ListImageJobsRequest, context: Context, ctx: CallContext
    ) -> images_pb2.ListImageJobsResponse:
        gateway, principal = await self._caller(context)
        if not 0 <= request.limit <= 1000:
            raise InvalidRequest("'limit' must be from 1 to 1000 (0 means 100).", param="limit")
        jobs = await gateway.list_jobs(principal, ctx, request.limit or 100)
        return images_pb2.ListImageJobsResponse(jobs=[job_message(job) for job in jobs])

    @rpc
    async def CancelImageJob(
        self, request: images_pb2.CancelImageJobRequest, context: Context, ctx: CallContext
    ) -> images_pb2.CancelImageJobResponse:
        gateway, principal = await self._caller(context)
        job = await gateway.cancel_job(principal, request.id, ctx)
        return images_pb2.CancelImageJobResponse(job=job_message(job))

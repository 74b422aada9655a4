"""The image engine behind every frontend: generations, jobs and result files.

Frontends call it through the Gateway (`gateway.images`); it does what the
Gateway does for chat: authorisation of the model, limits, routing, the
ComfyUI call through the adapter, and exactly one usage record per generation
(via the jobs). Another key's job or file is answered exactly like a missing
one, so ids reveal nothing.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lowart.adapters.comfyui import ComfyUIAdapter
from lowart.errors import GatewayError, InvalidRequest, NotFound, UpstreamError
from lowart.images._chat import ImageChatStream
from lowart.images._generation import GenerationResult, ImageGeneration, ImageOutput
from lowart.images._jobs import ImageJobs, _aware
from lowart.images._params import (
    ImageParams,
    InputImage,
    binding_values,
    params_from_chat,
    params_from_images_api,
)
from lowart.images._public import chat_completion, file_url, images_markdown, job_object, unix
from lowart.store import FileStore
from lowart.types import CallContext, Principal, Route

if TYPE_CHECKING:
    from lowart.gateway import Gateway

__all__ = ["ImageService", "JobCancelled"]


class JobCancelled(GatewayError):
    status = 409
    openai_type = "invalid_request_error"
    anthropic_type = "invalid_request_error"
    grpc_code = "CANCELLED"
    mcp_code = -32603
    default_code = "job_cancelled"


class ImageService:
    def __init__(
        self, gateway: Gateway, jobs: ImageJobs, files: FileStore, public_url: str | None = None
    ) -> None:
        self._gateway = gateway
        self.jobs = jobs
        self._files = files
        self._public_url = public_url

    def serves(self, route: Route) -> bool:
        try:
            return isinstance(self._gateway.adapter_for(route), ComfyUIAdapter)
        except GatewayError:
            return False

    # ---- the Images API and POST /v1/jobs ----------------------------------------------

    async def generate(
        self,
        principal: Principal,
        body: Any,
        ctx: CallContext,
        *,
        force_async: bool = False,
        image: InputImage | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): an OpenAI images response, or 202 and a job when async.
        With `image` (the Images API's edits), the workflow starts from that image."""
        params = params_from_images_api(body, force_async=force_async, image=image)
        job = await self._start(principal, params, ctx)
        if params.run_async:
            return 202, await self._job_object(job, ctx)
        row = await self._wait(job)
        files = await self._files.for_job(row["id"])
        if params.response_format == "b64_json":
            data = [{"b64_json": await self._b64(f)} for f in files]
        else:
            base = self._base_url(ctx)
            data = [{"url": file_url(base, f["id"])} for f in files]
        return 200, {"created": unix(row["created_at"]), "data": data}

    # ---- chat completions on an image model -------------------------------------------

    async def chat(self, principal: Principal, body: Any, ctx: CallContext) -> dict[str, Any]:
        params = params_from_chat(body)
        job = await self._start(principal, params, ctx)
        if params.run_async:
            return await self._job_object(job, ctx)
        row = await self._wait(job)
        files = await self._files.for_job(row["id"])
        base = self._base_url(ctx)
        content = images_markdown(file_url(base, f["id"]) for f in files)
        return chat_completion(row["route"], row["id"], content)

    async def open_chat_stream(
        self, principal: Principal, body: Any, ctx: CallContext
    ) -> ImageChatStream:
        params = params_from_chat(body)
        if params.run_async:
            raise InvalidRequest("'async' and 'stream' cannot be combined.", param="async")
        generation = await self._follow(principal, params, ctx)
        options = body.get("stream_options") or {}
        return ImageChatStream(generation, include_usage=bool(options.get("include_usage")))

    # ---- a generation followed event by event (gRPC stream, MCP tool) -----------------

    async def open_generation(
        self,
        principal: Principal,
        body: Any,
        ctx: CallContext,
        *,
        image: InputImage | None = None,
    ) -> ImageGeneration:
        """Start a generation (an Images API body) and follow it: progress, then files."""
        params = params_from_images_api(body, image=image)
        if params.run_async:
            raise InvalidRequest("'async' does not apply to a followed generation.", param="async")
        return await self._follow(principal, params, ctx)

    async def _follow(
        self, principal: Principal, params: ImageParams, ctx: CallContext
    ) -> ImageGeneration:
        events: asyncio.Queue = asyncio.Queue()
        job = await self._start(principal, params, ctx, listener=events)
        route = self._gateway.route_for(principal, params.model)

        async def result(row: dict[str, Any], error: GatewayError | None) -> GenerationResult:
            self._raise_unless_succeeded(row, error)
            files = await self._files.for_job(row["id"])
            base = self._base_url(ctx)
            finished = row.get("finished_at") or datetime.now(UTC)
            return GenerationResult(
                job_id=row["id"],
                model=row["route"],
                outputs=tuple(
                    ImageOutput(
                        index=index,
                        file_id=f["id"],
                        url=file_url(base, f["id"]),
                        content_type=f["content_type"],
                        size=f["bytes"],
                        path=self._files.path_of(f),
                    )
                    for index, f in enumerate(files)
                ),
                duration_ms=max(
                    (_aware(finished) - _aware(row["created_at"])).total_seconds() * 1000, 0.0
                ),
            )

        return ImageGeneration(
            route=route,
            job_id=job["id"],
            events=events,
            result=result,
            cancel=functools.partial(self._cancel_if_running, job["id"]),
        )

    # ---- jobs and files -----------------------------------------------------------------

    async def get_job(self, principal: Principal, job_id: str, ctx: CallContext) -> dict:
        return await self._job_object(await self._own_job(principal, job_id), ctx, fresh=True)

    async def list_jobs(
        self, principal: Principal, ctx: CallContext, limit: int = 100
    ) -> list[dict[str, Any]]:
        rows = await self.jobs.store.list_for_key(principal.key_id, limit)
        return [await self._job_object(row, ctx, fresh=True) for row in rows]

    async def cancel_job(self, principal: Principal, job_id: str, ctx: CallContext) -> dict:
        row = await self.jobs.cancel(await self._own_job(principal, job_id))
        return await self._job_object(row, ctx)

    async def file(self, principal: Principal, file_id: str) -> tuple[Path, dict[str, Any]]:
        row = await self._files.get(file_id, principal.key_id)
        if row is None:
            raise NotFound(f"No file '{file_id}'.", param="file_id")
        return self._files.path_of(row), row

    # ---- internals ----------------------------------------------------------------------

    async def _start(
        self,
        principal: Principal,
        params: ImageParams,
        ctx: CallContext,
        listener: asyncio.Queue | None = None,
    ) -> dict[str, Any]:
        ctx.key_name = principal.name
        gateway = self._gateway
        route = gateway.route_for(principal, params.model)
        ctx.route = route.name
        adapter = gateway.adapter_for(route)
        if not isinstance(adapter, ComfyUIAdapter):
            raise InvalidRequest(
                f"Model '{route.name}' does not generate images; use a comfyui model.",
                param="model",
            )
        (await gateway.admit(principal)).settle(0)
        try:
            values = binding_values(params, adapter.bindings(route), route.name)
            if params.image is not None:
                image = params.image
                values["image"] = await adapter.upload(route, image.data, image.content_type)
            workflow = adapter.build_workflow(route, values)
        except GatewayError as exc:
            self.jobs.record_rejected(principal, route, ctx, exc)
            raise
        return await self.jobs.start(
            principal,
            route,
            adapter,
            params,
            workflow,
            ctx,
            hooks=gateway.vendor_hooks(route, ctx),
            listener=listener,
        )

    async def _cancel_if_running(self, job_id: str) -> None:
        current = await self.jobs.store.get(job_id)
        if current is not None:
            await self.jobs.cancel(current)

    async def _wait(self, job: dict[str, Any]) -> dict[str, Any]:
        try:
            row, error = await self.jobs.wait(job["id"])
        except asyncio.CancelledError:
            # The client went away: nobody will collect these images, so stop ComfyUI.
            await asyncio.shield(self._cancel_if_running(job["id"]))
            raise
        self._raise_unless_succeeded(row, error)
        return row

    @staticmethod
    def _raise_unless_succeeded(row: dict[str, Any], error: GatewayError | None) -> None:
        if row["status"] == "succeeded":
            return
        if row["status"] == "cancelled":
            raise JobCancelled(f"Job {row['id']} was cancelled.")
        if error is not None:
            raise error
        raise UpstreamError(f"Job {row['id']} failed.")

    async def _own_job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        row = await self.jobs.store.get(job_id, key_id=principal.key_id)
        if row is None:
            raise NotFound(f"No job '{job_id}'.", param="job_id")
        return row

    async def _job_object(
        self, row: dict[str, Any], ctx: CallContext, *, fresh: bool = False
    ) -> dict[str, Any]:
        current = row if fresh else await self.jobs.store.get(row["id"]) or row
        files = await self._files.for_job(row["id"]) if current["status"] == "succeeded" else []
        return job_object(current, files, self._base_url(ctx))

    def _base_url(self, ctx: CallContext) -> str:
        return self._public_url or ctx.caller_base_url() or ""

    async def _b64(self, row: dict[str, Any]) -> str:
        data = await asyncio.to_thread(self._files.path_of(row).read_bytes)
        return base64.b64encode(data).decode()

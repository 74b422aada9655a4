"""The image engine behind the Gateway: jobs on image routes, their results and files.

The Gateway admits and routes an image call like any other (key, permission,
limits, deployments, fallbacks, breakers, transforms) and uses this service for
what is particular to images: checking a request against a route's workflow,
the job that follows a generation (exactly one usage record per generation),
and the shapes results are told in. It never calls back into the Gateway.
Another key's job or file is answered exactly like a missing one, so ids
reveal nothing.
"""

from __future__ import annotations

import asyncio
import base64
import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lowart.adapters import ImageAdapter
from lowart.errors import GatewayError, JobCancelled, NotFound, UpstreamError
from lowart.images._chat import ImageChatStream
from lowart.images._generation import GenerationResult, ImageGeneration, ImageOutput
from lowart.images._jobs import ImageJobs, JobEvent, RoutingNote, _aware
from lowart.images._params import ImageParams, binding_values
from lowart.images._public import chat_completion, file_url, images_markdown, job_object, unix
from lowart.images._results import AcceptedJob, GeneratedImages
from lowart.store import FileStore
from lowart.types import CallContext, Principal, Route, VendorHooks

__all__ = ["ImageService"]


class ImageService:
    def __init__(self, jobs: ImageJobs, files: FileStore, public_url: str | None = None) -> None:
        self.jobs = jobs
        self._files = files
        self._public_url = public_url

    # ---- starting a job (the Gateway drives these, inside its admission) --------------

    def check(
        self,
        principal: Principal,
        route: Route,
        adapter: ImageAdapter,
        params: ImageParams,
        ctx: CallContext,
    ) -> None:
        """Refuse values the route's workflow cannot take before any job exists; the
        refused request still leaves its one usage record."""
        try:
            binding_values(params, adapter.bindings(route), route.name)
        except GatewayError as exc:
            self.jobs.record_rejected(principal, route, ctx, exc)
            raise

    async def create_job(
        self, principal: Principal, route: Route, params: ImageParams, ctx: CallContext
    ) -> dict[str, Any]:
        return await self.jobs.create(principal, route, params, ctx)

    async def submit(
        self,
        job: dict[str, Any],
        route: Route,
        adapter: ImageAdapter,
        params: ImageParams,
        *,
        hooks: VendorHooks | None,
        listener: asyncio.Queue[JobEvent] | None = None,
        routing: RoutingNote | None = None,
    ) -> None:
        """One attempt on one deployment: its workflow, its input image, its queue."""
        values = binding_values(params, adapter.bindings(route), route.name)
        if params.image is not None:
            image = params.image
            values["image"] = await adapter.upload(route, image.data, image.content_type)
        workflow = adapter.build_workflow(route, values)
        await self.jobs.submit(
            job, route, adapter, workflow, hooks=hooks, listener=listener, routing=routing
        )

    async def fail(
        self,
        job: dict[str, Any],
        route: Route,
        error: GatewayError,
        routing: RoutingNote | None = None,
    ) -> None:
        await self.jobs.fail(job, route, error, routing)

    # ---- what a started job becomes for each kind of caller ----------------------------

    async def generated(
        self, job: dict[str, Any], params: ImageParams, ctx: CallContext
    ) -> GeneratedImages | AcceptedJob:
        """The Images API's answer: the images, or the job when it runs in the background."""
        if params.run_async:
            return AcceptedJob(await self._job_object(job, ctx))
        row = await self._wait(job)
        files = await self._files.for_job(row["id"])
        if params.response_format == "b64_json":
            data = [{"b64_json": await self._b64(f)} for f in files]
        else:
            base = self._base_url(ctx)
            data = [{"url": file_url(base, f["id"])} for f in files]
        created = unix(row["created_at"]) or int(datetime.now(UTC).timestamp())
        return GeneratedImages(created=created, data=tuple(data))

    async def chat_reply(
        self, job: dict[str, Any], params: ImageParams, ctx: CallContext
    ) -> dict[str, Any]:
        """A chat completion whose content links the images (or the job object, async)."""
        if params.run_async:
            return await self._job_object(job, ctx)
        row = await self._wait(job)
        files = await self._files.for_job(row["id"])
        base = self._base_url(ctx)
        content = images_markdown(file_url(base, f["id"]) for f in files)
        return chat_completion(row["route"], row["id"], content)

    @staticmethod
    def chat_stream(generation: ImageGeneration, *, include_usage: bool) -> ImageChatStream:
        return ImageChatStream(generation, include_usage=include_usage)

    def generation(
        self,
        job: dict[str, Any],
        route: Route,
        events: asyncio.Queue[JobEvent],
        ctx: CallContext,
    ) -> ImageGeneration:
        """A submitted job followed event by event (gRPC stream, MCP tool, chat stream)."""

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
            cancel=functools.partial(self.cancel_by_id, job["id"]),
        )

    # ---- jobs and files -----------------------------------------------------------------

    async def get_job(self, principal: Principal, job_id: str, ctx: CallContext) -> dict[str, Any]:
        return await self._job_object(await self._own_job(principal, job_id), ctx, fresh=True)

    async def list_jobs(
        self, principal: Principal, ctx: CallContext, limit: int = 100
    ) -> list[dict[str, Any]]:
        rows = await self.jobs.store.list_for_key(principal.key_id, limit)
        return [await self._job_object(row, ctx, fresh=True) for row in rows]

    async def cancel_job(
        self, principal: Principal, job_id: str, ctx: CallContext
    ) -> dict[str, Any]:
        row = await self.jobs.cancel(await self._own_job(principal, job_id))
        return await self._job_object(row, ctx)

    async def file(self, principal: Principal, file_id: str) -> tuple[Path, dict[str, Any]]:
        row = await self._files.get(file_id, principal.key_id)
        if row is None:
            raise NotFound(f"No file '{file_id}'.", param="file_id")
        return self._files.path_of(row), row

    # ---- internals ----------------------------------------------------------------------

    async def cancel_by_id(self, job_id: str) -> None:
        """Cancel a job unless it already ended (the caller that would collect it left)."""
        current = await self.jobs.store.get(job_id)
        if current is not None:
            await self.jobs.cancel(current)

    async def _wait(self, job: dict[str, Any]) -> dict[str, Any]:
        try:
            row, error = await self.jobs.wait(job["id"])
        except asyncio.CancelledError:
            # The client went away: nobody will collect these images, so stop ComfyUI.
            await asyncio.shield(self.cancel_by_id(job["id"]))
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

"""Image generation jobs: run, watch, persist, cancel, and resume after a restart.

Every generation, sync or async, is a job row, so the same code follows it
whether a client is waiting on the HTTP request, polling `/v1/jobs/{id}`, or
the gateway restarted in between: on start, `resume` watches every unfinished
job again (ComfyUI keeps running prompts while the gateway is away). A job's
final state is written once (`only_unfinished`), and that single write is what
emits the generation's one usage record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from lowart.accounting import UsageWriter
from lowart.adapters import ImageAdapter, ImageFinished
from lowart.errors import GatewayError, UpstreamError, UpstreamTimeout
from lowart.images._params import ImageParams
from lowart.store import FileStore, JobStore
from lowart.telemetry import Metrics
from lowart.types import CallContext, ImageProgress, Principal, Route, UsageRecord, VendorHooks

__all__ = ["ImageJobs", "JobEvent"]

log = logging.getLogger("lowart.images")

# What the routing of a job went through (attempts, fallbacks), for its usage record.
RoutingNote = Callable[[], dict[str, Any] | None]
# ("progress", Progress) while running, then ("done", (final job row, error or None)).
JobEvent = tuple[str, Any]
_PROGRESS_WRITE_SECONDS = 0.5
LEASE_SECONDS = 60.0  # a job's lease; renewed every third of it while its process lives
_MEDIA = ("image", "video", "audio")


@dataclass
class _Live:
    """This process's handle on a job it is watching."""

    submitted: asyncio.Future[None]
    done: asyncio.Future[tuple[dict[str, Any], GatewayError | None]]
    listeners: list[asyncio.Queue[JobEvent]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    cancelled: bool = False
    last_write: float = 0.0
    last_node: str | None = None
    running: bool = False
    routing: RoutingNote | None = None


class ImageJobs:
    def __init__(
        self,
        store: JobStore,
        files: FileStore,
        image_route: Callable[[str], tuple[Route, ImageAdapter]],
        usage: UsageWriter,
        *,
        lease_seconds: float = LEASE_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics.disabled()
        self.store = store
        self.files = files
        self._image_route = image_route
        self._lease_seconds = lease_seconds
        # Who follows a job, in the job's row: unique per process, even on one host.
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"
        self._usage = usage
        self._live: dict[str, _Live] = {}

    # ---- starting and resuming ------------------------------------------------------

    async def create(
        self, principal: Principal, route: Route, params: ImageParams, ctx: CallContext
    ) -> dict[str, Any]:
        """The job's row, before any attempt to submit it (this process holds its lease)."""
        self._metrics.image_job("queued")
        return await self.store.create(
            lease_owner=self.owner,
            lease_until=self._lease_end(),
            id="job_" + secrets.token_hex(12),
            key_id=principal.key_id,
            key_name=principal.name,
            route=route.name,
            interface=ctx.interface,
            request_id=ctx.request_id,
            status="queued",
            params=orjson.dumps(params.as_json()).decode(),
            prompt_id=str(uuid.uuid4()),
            client_id="lowart-" + secrets.token_hex(8),
        )

    async def submit(
        self,
        job: dict[str, Any],
        route: Route,
        adapter: ImageAdapter,
        workflow: dict[str, Any],
        *,
        hooks: VendorHooks | None = None,
        listener: asyncio.Queue[JobEvent] | None = None,
        routing: RoutingNote | None = None,
    ) -> None:
        """One attempt to hand the job to `route`; returns once it was accepted.

        A refusal raises and leaves the job unfinished, so the caller may try another
        deployment and, when none takes it, end the job with `fail` (its one usage
        record). Once accepted, the job is watched to its end.
        """
        # What a restart needs to follow it again: the model that took it, its workflow.
        job["route"] = route.name
        await self.store.update(
            job["id"],
            only_unfinished=True,
            route=route.name,
            workflow=orjson.dumps(workflow).decode(),
        )
        events = adapter.generate(
            route, workflow, prompt_id=job["prompt_id"], client_id=job["client_id"], hooks=hooks
        )
        live = self._watch(route, adapter, job, events, listener)
        live.routing = routing
        try:
            await asyncio.shield(live.submitted)
        except asyncio.CancelledError:
            # The caller left (cancel, deadline) before ComfyUI accepted the prompt and
            # never learnt the job id: nobody will collect these images, so stop them.
            await asyncio.shield(self._abandon(job, live))
            raise

    async def fail(
        self,
        job: dict[str, Any],
        route: Route,
        error: GatewayError,
        routing: RoutingNote | None = None,
    ) -> None:
        """No deployment took the job: it ends failed, with its one usage record."""
        await self._finish(job, route, "failed", error=error, routing=routing)

    async def _abandon(self, job: dict[str, Any], live: _Live) -> None:
        """Cancel a job once its prompt is on ComfyUI (cancelling earlier would miss it)."""
        with contextlib.suppress(asyncio.CancelledError, GatewayError):
            await asyncio.shield(live.submitted)
        current = await self.store.get(job["id"])
        if current is not None:
            await self.cancel(current)

    async def resume(self) -> int:
        """Watch again every unfinished job no live process follows (one a previous
        process left, or one whose process stopped renewing its lease)."""
        resumed = 0
        for job in await self.store.unfinished():
            if job["id"] in self._live:
                continue
            if not await self.store.claim(job["id"], self.owner, self._lease_end()):
                continue  # another gateway process follows it
            try:
                route, adapter = self._image_route(job["route"])
            except GatewayError as exc:
                await self._finish(job, None, "failed", error=exc)
                continue
            workflow = orjson.loads(job["workflow"]) if job["workflow"] else None
            events = adapter.follow(
                route,
                workflow,
                prompt_id=job["prompt_id"],
                client_id=job["client_id"],
                resume_from=_stored_progress(job.get("progress")),
            )
            self._watch(route, adapter, job, events, None)
            resumed += 1
        if resumed:
            log.info("resumed watching %d unfinished image job(s)", resumed)
        return resumed

    def _watch(
        self,
        route: Route,
        adapter: ImageAdapter,
        job: dict[str, Any],
        events: AsyncIterator[ImageProgress | ImageFinished],
        listener: asyncio.Queue[JobEvent] | None,
    ) -> _Live:
        loop = asyncio.get_running_loop()
        live = _Live(
            submitted=loop.create_future(),
            done=loop.create_future(),
            running=job.get("status") == "running",  # resumed: its start is already written
        )
        if listener is not None:
            live.listeners.append(listener)
        self._live[job["id"]] = live
        live.task = asyncio.create_task(
            self._run(route, adapter, job, events, live), name=f"lowart-job-{job['id']}"
        )
        return live

    # ---- following one job ----------------------------------------------------------

    async def _run(
        self,
        route: Route,
        adapter: ImageAdapter,
        job: dict[str, Any],
        events: AsyncIterator[ImageProgress | ImageFinished],
        live: _Live,
    ) -> None:
        try:
            async for event in events:
                if isinstance(event, ImageProgress):
                    # Written before the submitter returns: a caller that polls the job at
                    # once already sees it queued (and where).
                    await self._progress(job, event, live)
                    _resolve(live.submitted)
                elif isinstance(event, ImageFinished):
                    _resolve(live.submitted)
                    stored = [await self._store(route, adapter, job, ref) for ref in event.images]
                    await self._finish(job, route, "succeeded", outputs=[f["id"] for f in stored])
                    return
            raise UpstreamError(f"ComfyUI for model '{route.name}' ended without a result.")
        except asyncio.CancelledError:
            # cancelled by `cancel` (already recorded) or by shutdown (resumed next start)
            if not live.submitted.done():
                live.submitted.cancel()
            raise
        except GatewayError as exc:
            if not live.submitted.done():  # refused: the submitter decides what happens next
                live.submitted.set_exception(exc)
                live.submitted.exception()  # retrieved: the submitter re-raises it
                self._forget(job["id"], live)
                return
            if live.cancelled:  # our own cancel stopped ComfyUI; `cancel` writes the outcome
                return
            if isinstance(exc, UpstreamTimeout):  # free ComfyUI for the next prompt
                with contextlib.suppress(GatewayError):
                    await adapter.cancel(route, job["prompt_id"])
            await self._finish(job, route, "failed", error=exc)
        except Exception:
            log.exception("image job %s failed unexpectedly", job["id"])
            error = GatewayError("The image job failed inside the gateway.")
            if not live.submitted.done():
                live.submitted.set_exception(error)
                live.submitted.exception()
            await self._finish(job, route, "failed", error=error)
        finally:
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]
            if live.done.done():
                self._forget(job["id"], live)

    def _forget(self, job_id: str, live: _Live) -> None:
        if self._live.get(job_id) is live:
            del self._live[job_id]

    async def _progress(self, job: dict[str, Any], progress: ImageProgress, live: _Live) -> None:
        for queue in live.listeners:
            queue.put_nowait(("progress", progress))
        now = time.monotonic()
        values: dict[str, Any] = {}
        if progress.state == "running" and not live.running:
            live.running = True
            self._metrics.image_job("running")
            values.update(status="running", started_at=datetime.now(UTC))
        if (
            values
            or progress.node != live.last_node
            or now - live.last_write > _PROGRESS_WRITE_SECONDS
        ):
            live.last_node, live.last_write = progress.node, now
            values["progress"] = orjson.dumps(progress.as_dict()).decode()
            await self.store.update(job["id"], only_unfinished=True, **values)

    async def _store(
        self, route: Route, adapter: ImageAdapter, job: dict[str, Any], ref: Any
    ) -> dict[str, Any]:
        data, content_type = await adapter.fetch(route, ref)
        if content_type.split("/")[0] not in _MEDIA:  # never serve upstream HTML as ours
            content_type = "application/octet-stream"
        return await self.files.save(
            key_id=job["key_id"],
            job_id=job["id"],
            filename=ref.filename,
            content_type=content_type,
            data=data,
        )

    # ---- ending a job ---------------------------------------------------------------

    async def _finish(
        self,
        job: dict[str, Any],
        route: Route | None,
        status: str,
        *,
        outputs: list[str] | None = None,
        error: GatewayError | None = None,
        routing: RoutingNote | None = None,
    ) -> bool:
        """Write the final state once; the write that wins also emits the usage record."""
        finished_at = datetime.now(UTC)
        error_json = (
            orjson.dumps({"code": error.code, "message": error.message}).decode()
            if error is not None
            else None
        )
        won = await self.store.update(
            job["id"],
            only_unfinished=True,
            status=status,
            finished_at=finished_at,
            outputs=orjson.dumps(outputs).decode() if outputs is not None else None,
            error=error_json,
        )
        if won:
            self._metrics.image_job(status)
            if routing is None and (watching := self._live.get(job["id"])) is not None:
                routing = watching.routing
            note = routing() if routing is not None else None
            self._record(job, route, status, finished_at, len(outputs or ()), error, note)
        final = await self.store.get(job["id"])
        live = self._live.get(job["id"])
        if live is not None:
            _resolve(live.done, (final, error))
            for queue in live.listeners:
                queue.put_nowait(("done", (final, error)))
        return won

    def _record(
        self,
        job: dict[str, Any],
        route: Route | None,
        status: str,
        finished_at: datetime,
        images: int,
        error: GatewayError | None,
        routing: dict[str, Any] | None = None,
    ) -> None:
        duration_ms = max((finished_at - _aware(job["created_at"])).total_seconds() * 1000, 0.0)
        params = orjson.loads(job["params"]) if job.get("params") else {}
        outcome = {"succeeded": "ok", "cancelled": "cancelled"}.get(status, "error")
        http_status = {"ok": 200, "cancelled": 499}.get(outcome, 502)
        self._usage.submit(
            _usage_record(
                job["request_id"],
                job["key_id"],
                job["key_name"],
                route_name=job["route"],
                route=route,
                interface=job["interface"],
                status=outcome,
                error=error,
                http_status=error.status if error is not None else http_status,
                latency_ms=duration_ms,
                stream=bool(params.get("stream")),
                extra={
                    **(routing or {}),
                    "kind": "image_generation",
                    "job_id": job["id"],
                    "images": images,
                    "duration_ms": round(duration_ms, 1),
                    "async": bool(params.get("run_async")),
                },
            )
        )

    def record_rejected(
        self, principal: Principal, route: Route, ctx: CallContext, error: GatewayError
    ) -> None:
        """A routed request refused before any job existed still leaves its one record."""
        self._usage.submit(
            _usage_record(
                ctx.request_id,
                principal.key_id,
                principal.name,
                route_name=route.name,
                route=route,
                interface=ctx.interface,
                status="error",
                error=error,
                http_status=error.status,
                latency_ms=(time.perf_counter() - ctx.started) * 1000,
                stream=False,
                extra={"kind": "image_generation", "images": 0},
            )
        )

    # ---- what callers use -----------------------------------------------------------

    async def wait(self, job_id: str) -> tuple[dict[str, Any], GatewayError | None]:
        """The final row of a job (and its error), for the sync APIs that wait on it."""
        live = self._live.get(job_id)
        if live is None:
            row = await self.store.get(job_id)
            if row is None:
                raise GatewayError(f"Job {job_id} vanished.")
            return row, None
        return await asyncio.shield(live.done)

    def listen(self, job_id: str, queue: asyncio.Queue[JobEvent]) -> None:
        live = self._live.get(job_id)
        if live is not None:
            live.listeners.append(queue)

    async def cancel(self, job: dict[str, Any]) -> dict[str, Any]:
        """Interrupt (running) or dequeue (pending) on ComfyUI, then mark it cancelled."""
        if job["status"] not in ("queued", "running"):
            return job
        live = self._live.get(job["id"])
        if live is not None:
            live.cancelled = True
        route: Route | None = None
        adapter: ImageAdapter | None = None
        with contextlib.suppress(GatewayError):
            route, adapter = self._image_route(job["route"])
        if route is not None and adapter is not None and job.get("prompt_id"):
            try:
                await adapter.cancel(route, job["prompt_id"])
            except GatewayError as exc:
                log.warning("cancelling job %s on ComfyUI failed: %s", job["id"], exc.message)
        await self._finish(job, route, "cancelled")
        if live is not None and live.task is not None:
            live.task.cancel()
            if self._live.get(job["id"]) is live:
                del self._live[job["id"]]
        return await self.store.get(job["id"]) or job

    def _lease_end(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._lease_seconds)

    async def keep_leases(self) -> None:
        """Renew this process's leases, and pick up jobs whose process stopped renewing
        theirs (it died), every third of a lease; runs until cancelled."""
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                await self.store.renew(self.owner, self._lease_end())
                await self.resume()
            except Exception:
                log.exception("renewing image job leases failed")

    async def close(self) -> None:
        """Stop watching (shutdown); unfinished jobs stay unfinished, their leases are
        given up, and the next process to start resumes them."""
        tasks = [live.task for live in self._live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._live.clear()
        try:
            await self.store.release(self.owner)
        except Exception:
            log.exception("giving up image job leases failed (they expire by themselves)")


def _usage_record(
    request_id: str,
    key_id: int,
    key_name: str | None,
    *,
    route_name: str,
    route: Route | None,
    interface: str,
    status: str,
    error: GatewayError | None,
    http_status: int,
    latency_ms: float,
    stream: bool,
    extra: dict[str, Any],
) -> UsageRecord:
    """An image generation's usage: no tokens exist, so none are invented; its cost
    is the route's price per image times the images it made."""
    price = route.price if route is not None else None
    images = extra.get("images")
    cost = price.of_images(images if isinstance(images, int) else 0) if price else None
    return UsageRecord(
        request_id=request_id,
        key_id=key_id,
        key_name=key_name,
        route=route_name,
        vendor=route.vendor if route else "comfyui",
        upstream_model=route.upstream_model if route else route_name,
        interface=interface,
        status=status,
        http_status=http_status,
        error_code=error.code if error is not None else None,
        prompt_tokens=0,
        completion_tokens=0,
        latency_ms=latency_ms,
        ttft_ms=None,
        stream=stream,
        usage_source="none",
        extra=extra,
        cost=cost,
        currency=price.currency if price is not None else None,
    )


def _stored_progress(raw: str | None) -> ImageProgress | None:
    """The progress a job's row last recorded (JSON of `ImageProgress.as_dict`)."""
    if not raw:
        return None
    try:
        stored = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(stored, dict) or not isinstance(stored.get("state"), str):
        return None
    known = {f.name for f in fields(ImageProgress)}
    try:
        return ImageProgress(**{k: v for k, v in stored.items() if k in known})
    except TypeError:
        return None


def _resolve(future: asyncio.Future[Any], value: Any = None) -> None:
    if not future.done():
        future.set_result(value)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)

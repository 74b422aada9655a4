"""The Gateway: the one service every frontend calls.

Authentication, limits, routing, adapter calls, token accounting and usage
records all happen here, once, whatever protocol the caller speaks. Frontends
decode their protocol into the canonical request, call `complete`,
`open_stream`, `generate_images`, `open_generation` (or the job and file
calls), and encode what comes back. Every call takes the same path: the key
(`authenticate`), its permission for the model, its limits, the route plan
(deployments, fallbacks, breakers, retries, timeouts), the route's transforms,
the adapter, and one usage record. Results are domain objects and failures
are `lowart.errors`; never a protocol status. Responses API objects a caller
asked to keep (and background runs) are held per key through
`store_response`, `stored_response`, `run_in_background` and `cancel_response`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal

from lowart._validate import validate_chat_request
from lowart._validate_embeddings import MAX_EMBEDDING_TOKENS, validate_embedding_request
from lowart.accounting import (
    CheckedUsage,
    MalformedReply,
    StreamMeter,
    UsageWriter,
    checked_usage,
    count_embedding_input_off_loop,
    count_prompt_tokens_off_loop,
    ensure_loaded,
)
from lowart.adapters import Adapter, ImageAdapter
from lowart.auth import Admission, Authenticator, Limiter
from lowart.errors import (
    GatewayError,
    InvalidRequest,
    LimitsUnavailable,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransformFailed,
    UpstreamError,
    UpstreamTimeout,
)
from lowart.images import (
    AcceptedJob,
    GeneratedImages,
    ImageChatStream,
    ImageGeneration,
    ImageParams,
    ImageService,
    InputImage,
    JobEvent,
    params_from_chat,
    params_from_images_api,
)
from lowart.responses import ResponseService
from lowart.routing import Breakers, ModelManager, Policy, Router, Ticket, Trail, close_quietly
from lowart.telemetry import NO_TRACING, Metrics, Tracing, valid_traceparent
from lowart.types import (
    CallContext,
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkStream,
    Principal,
    Route,
    UsageRecord,
    VendorHooks,
)

__all__ = ["ChatStream", "Gateway"]

log = logging.getLogger("lowart.gateway")

HooksFactory = Callable[[Route, CallContext], VendorHooks | None]


class Gateway:
    def __init__(
        self,
        *,
        authenticator: Authenticator,
        limiter: Limiter,
        models: ModelManager,
        adapters: Mapping[str, Adapter],
        usage: UsageWriter,
        hooks_for: HooksFactory | None = None,
        breakers: Breakers | None = None,
        images: ImageService | None = None,
        responses: ResponseService | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing = NO_TRACING,
    ) -> None:
        self.metrics = metrics or Metrics.disabled()
        self.tracing = tracing
        self._auth = authenticator
        self._limiter = limiter
        self.models = models
        self._adapters = adapters
        self._usage = usage
        self._images = images  # None: this gateway makes no images (no image engine)
        self._responses = responses  # None: Responses API objects are not kept
        self.breakers = breakers or Breakers()
        self.live = LiveStreams()
        # Deployments, fallbacks, retries, breakers and timeouts: see lowart.routing.
        self.router = Router(
            models, self.adapter_for, self.breakers, hooks_for, metrics=self.metrics
        )

    # ---- what every frontend says when a request starts and ends -----------------------

    def begin_request(self, ctx: CallContext, name: str) -> None:
        """A request arrived: it is in flight, and traced under `name` when tracing is on
        (continuing the trace of the caller's `ctx.traceparent`). Pair with `end_request`."""
        self.metrics.request_started()
        if ctx.traceparent is not None:
            ctx.traceparent = valid_traceparent(ctx.traceparent)
        if self.tracing.enabled:
            ctx.span = self.tracing.request(
                name, ctx.traceparent, {"lowart.interface": ctx.interface}
            )

    def end_request(self, ctx: CallContext, status: int) -> None:
        """The request was answered with `status` (HTTP's, or its equivalent for gRPC)."""
        self.metrics.request_finished(
            ctx.interface,
            ctx.route,
            ctx.vendor,
            status,
            ctx.error_code,
            ctx.key_name,
            time.perf_counter() - ctx.started,
        )
        span = ctx.span
        if span.recording:
            span.set_many(
                {
                    "lowart.request_id": ctx.request_id,
                    "lowart.interface": ctx.interface,
                    "lowart.route": ctx.route,
                    "lowart.key": ctx.key_name,
                    "http.response.status_code": status,
                    "lowart.cause": ctx.cause,
                }
            )
            if status >= 400 or ctx.error_code:
                span.fail(ctx.error_code or str(status))
            span.end()

    async def authenticate(self, presented: str | None) -> Principal:
        return await self._auth.authenticate(presented)

    def models_for(self, principal: Principal) -> list[Route]:
        """The routes this key may use (what /v1/models and ListModels show)."""
        allowed = principal.allowed_models
        return [r for r in self.models.routes() if allowed is None or r.name in allowed]

    def aliases_for(self, principal: Principal) -> dict[str, list[str]]:
        """The alias patterns of each route this key may use (an alias is only a way to
        name a route: the key's allowed models apply to the route it resolves to)."""
        allowed = principal.allowed_models
        found: dict[str, list[str]] = {}
        for pattern, target in self.models.aliases().items():
            if allowed is None or target in allowed:
                found.setdefault(target, []).append(pattern)
        return found

    def route_for(self, principal: Principal, model: object) -> Route:
        return self._permitted(principal, self.models.resolve(model))

    def check_model(self, principal: Principal, body: Any) -> None:
        """An unknown (or forbidden) model named by a request body is refused before the
        body's shape is judged, as the vendors' APIs do: clients such as Claude Code read a
        not-found error as "try another model", and a 400 about some field as fatal. A body
        that names no model is left to validation, which reports that in its own words."""
        if isinstance(body, dict):
            model = body.get("model")
            if isinstance(model, str) and model:
                self.route_for(principal, model)

    @staticmethod
    def _permitted(principal: Principal, route: Route) -> Route:
        allowed = principal.allowed_models
        if allowed is not None and route.name not in allowed:
            raise PermissionDenied(f"This key may not use the model '{route.name}'.", param="model")
        return route

    def _plan_for(self, principal: Principal, route: Route) -> list[Route]:
        """What a call to `route` may try for this key: the name's deployments, and only
        the fallbacks the key could call directly (a fallback answers as its own model,
        so a key limited to `route` must not get another model's answer through it)."""
        plan = self.router.plan(route.name)
        allowed = principal.allowed_models
        if allowed is None:
            return plan
        return [c for c in plan if c.name == route.name or c.name in allowed]

    def adapter_for(self, route: Route) -> Adapter:
        adapter = self._adapters.get(route.vendor)
        if adapter is None:
            raise GatewayError(
                f"Model '{route.name}' names vendor '{route.vendor}', which is not available."
            )
        return adapter

    def _named_route(self, body: Any) -> Route | None:
        """The route a chat body names, resolved once for both checks that need it
        (image model or not, then permission); None when it names none, which
        validation then reports in its own words."""
        if not isinstance(body, dict):
            return None
        try:
            return self.models.resolve(body.get("model"))
        except GatewayError:
            return None

    # ---- what kind of model a route is (decided here only) ----------------------------

    def model_kind(self, route: Route) -> Literal["chat", "embedding", "image"]:
        """What a route serves: an image vendor's routes make images, whatever their row
        says; other routes serve chat or (configured so) embeddings."""
        adapter = self._adapters.get(route.vendor)
        if adapter is not None and adapter.generates_images:
            return "image"
        return "embedding" if route.kind == "embedding" else "chat"

    def _require_kind(self, route: Route, kind: Literal["chat", "embedding"]) -> None:
        """A call of the wrong kind (chat on an embedding model, or the reverse) is a 400
        that says which endpoint the model serves."""
        actual = self.model_kind(route)
        if actual == kind or (kind == "chat" and actual == "image"):
            return
        endpoint = {
            "chat": "/v1/chat/completions",
            "embedding": "/v1/embeddings",
            "image": "/v1/images/generations",
        }[actual]
        raise InvalidRequest(
            f"Model '{route.name}' is {'an' if actual[0] in 'aeiou' else 'a'} {actual} model; "
            f"use it with {endpoint}.",
            param="model",
            code="wrong_model_kind",
        )

    def generates_images(self, route: Route | None) -> bool:
        """Whether calls to `route` are image generations (a chat on one is answered
        with images); never with the image engine off."""
        return route is not None and self._images is not None and self.model_kind(route) == "image"

    def image_models(self, principal: Principal) -> list[Route]:
        """The image routes this key may use (none when the image engine is off)."""
        return [r for r in self.models_for(principal) if self.generates_images(r)]

    def image_route(self, name: str) -> tuple[Route, ImageAdapter]:
        """A route by name with its image adapter (the image jobs use it to resume)."""
        route = self.models.resolve(name)
        return route, self._image_adapter(route)

    def _image_adapter(self, route: Route) -> ImageAdapter:
        adapter = self.adapter_for(route)
        if not isinstance(adapter, ImageAdapter):
            raise InvalidRequest(
                f"Model '{route.name}' does not generate images; use an image model.",
                param="model",
            )
        return adapter

    def _image_engine(self) -> ImageService:
        if self._images is None:
            raise NotFound("Image generation is not enabled on this gateway.")
        return self._images

    async def _spend_request(self, principal: Principal, cost: Decimal | None = None) -> None:
        """A call that uses no tokens still spends the key's request rate (and is
        refused, before any work, when the rate, a spent quota or budget says so);
        `cost` (an image job's) is reserved against the key's budget like an estimate
        (refused when it does not fit), then charged at once."""
        admission = await self._admit(principal)
        if cost:
            try:
                await admission.reserve(0, 0, cost=cost)
            except BaseException as exc:
                admission.settle(0)
                if isinstance(exc, RateLimited | LimitsUnavailable):
                    self.metrics.rejected(exc.cause or exc.code or "error")
                raise
        admission.settle(0, cost)

    async def _admit(self, principal: Principal) -> Admission:
        """The key's limits let the request in (a refusal is counted by its kind)."""
        try:
            return await self._limiter.acquire(principal, 0)
        except (RateLimited, LimitsUnavailable) as exc:
            self.metrics.rejected(exc.cause or exc.code or "error")
            raise

    async def count_tokens(self, principal: Principal, body: Any, ctx: CallContext) -> int:
        """Prompt tokens a request would use on its route (no upstream call is billed)."""
        ctx.attribute(principal.name)
        self.check_model(principal, body)
        request = validate_chat_request(body)
        route = self.route_for(principal, request["model"])
        self._require_kind(route, "chat")
        ctx.attribute(principal.name, route.name, route.vendor)
        await self._spend_request(principal)  # a count is a request too
        await ensure_loaded(route.upstream_model)
        return await self.adapter_for(route).count_tokens(route, request, ctx)

    async def _begin(
        self, principal: Principal, body: Any, ctx: CallContext, named: Route | None
    ) -> _Call:
        ctx.attribute(principal.name)
        if named is None:
            self.check_model(principal, body)  # an unknown model: 404 before any 400
        request = validate_chat_request(body)
        if named is None:
            route = self.route_for(principal, request["model"])  # raises: no such model
        else:
            route = self._permitted(principal, named)
        self._require_kind(route, "chat")
        ctx.attribute(principal.name, route.name, route.vendor)
        plan = self._plan_for(principal, route)
        for candidate in plan:  # any of them may have to count tokens
            await ensure_loaded(candidate.upstream_model)
        # Rate, concurrency and a quota already spent refuse a caller before any counting.
        _trace_chat_request(ctx, request)
        admission = await self._admit(principal)
        if self._limiter.needs_estimate(principal):
            try:
                prompt = await count_prompt_tokens_off_loop(request, route.upstream_model)
                limit = request.get("max_completion_tokens") or request.get("max_tokens")
                # Without a limit it reserves all that remains of the key's TPM and quota.
                await admission.reserve(
                    prompt, limit if isinstance(limit, int) else None, route.price
                )
            except BaseException as exc:
                admission.settle(0)
                if isinstance(exc, RateLimited | LimitsUnavailable):
                    self.metrics.rejected(exc.cause or exc.code or "error")
                raise
        # Nothing after this may raise before `_Call` owns the admission's settle.
        return _Call(self._usage, principal, route, plan, request, ctx, admission)

    async def complete(self, principal: Principal, body: Any, ctx: CallContext) -> ChatResponse:
        """One non-streaming chat completion, usage recorded however it ends."""
        named = self._named_route(body)
        if self.generates_images(named):
            return await self._image_chat(principal, body, ctx)
        call = await self._begin(principal, body, ctx, named)
        call.stream = False
        try:
            route, response = await self.router.complete(call.plan, call.request, ctx, call.trail)
        except BaseException as exc:
            call.fail(exc)
            raise
        call.serve(route)
        try:
            prompt, completion, source, usage = _reply_usage(call, response)
        except MalformedReply as exc:
            error = UpstreamError(
                f"Upstream for model '{call.route.name}' sent a bad reply: {exc}."
            )
            call.fail(error, reported=checked_usage(response.get("usage")))
            raise error from exc
        call.finish(prompt, completion, source, usage)
        response["model"] = call.route.name
        return response

    async def open_stream(self, principal: Principal, body: Any, ctx: CallContext) -> ChunkStream:
        """Start a stream and wait for its first chunk, so failures before the
        first byte still reach the client as a proper error status."""
        named = self._named_route(body)
        if self.generates_images(named):
            return await self._image_chat_stream(principal, body, ctx)
        call = await self._begin(principal, body, ctx, named)
        try:
            opened = await self.router.open_stream(call.plan, call.request, ctx, call.trail)
        except BaseException as exc:
            call.fail(exc)
            raise
        call.serve(opened.route)
        call.first_chunk_at = time.perf_counter()
        meter = StreamMeter(call.request, opened.route.upstream_model)
        return ChatStream(
            call,
            opened.upstream,
            meter,
            opened.first,
            opened.ticket,
            opened.deadline,
            self.metrics,
            self.live,
        )

    # ---- embeddings: the same admission, plan and usage record as chat ----------------

    async def embed(self, principal: Principal, body: Any, ctx: CallContext) -> dict[str, Any]:
        """One embeddings call (OpenAI's shape); usage recorded however it ends, with
        the input's tokens as prompt tokens and none for the completion."""
        ctx.attribute(principal.name)
        self.check_model(principal, body)  # an unknown model: 404 before any 400
        request = validate_embedding_request(body)
        route = self.route_for(principal, request["model"])
        self._require_kind(route, "embedding")
        ctx.attribute(principal.name, route.name, route.vendor)
        plan = self._plan_for(principal, route)
        await ensure_loaded(route.upstream_model)
        admission = await self._admit(principal)
        try:
            prompt = await count_embedding_input_off_loop(request["input"], route.upstream_model)
            if prompt > MAX_EMBEDDING_TOKENS:
                raise InvalidRequest(
                    f"'input' holds {prompt} tokens; at most {MAX_EMBEDDING_TOKENS} per request.",
                    param="input",
                )
            if self._limiter.needs_estimate(principal):
                # An embedding generates no tokens; its input is priced like a prompt.
                await admission.reserve(prompt, 0, route.price)
        except BaseException as exc:
            admission.settle(0)
            if isinstance(exc, RateLimited | LimitsUnavailable):
                self.metrics.rejected(exc.cause or exc.code or "error")
            raise
        call = _Call(self._usage, principal, route, plan, request, ctx, admission)  # type: ignore[arg-type]
        call.stream = False
        try:
            served, response = await self.router.embed(plan, request, ctx, call.trail)
        except BaseException as exc:
            call.fail(exc)
            raise
        call.serve(served)
        reply_usage = response.get("usage")
        usage = checked_usage(
            {**reply_usage, "completion_tokens": 0} if isinstance(reply_usage, dict) else None
        )
        if usage is not None:
            call.finish(usage.prompt, 0, "upstream", usage)
        else:
            call.finish(prompt, 0, "counted", None)
        reported = usage.prompt if usage is not None else prompt
        response["usage"] = {"prompt_tokens": reported, "total_tokens": reported}
        response["model"] = call.route.name
        return response

    # ---- image generation: the same admission, routed like any call -------------------

    async def generate_images(
        self,
        principal: Principal,
        body: Any,
        ctx: CallContext,
        *,
        image: InputImage | None = None,
        force_async: bool = False,
    ) -> GeneratedImages | AcceptedJob:
        """An Images API call: the images, or the job when asked to run in the background.
        With `image` (the Images API's edits), the workflow starts from that image."""
        engine = self._image_engine()
        params = params_from_images_api(body, force_async=force_async, image=image)
        job, _ = await self._start_image_job(principal, params, ctx)
        return await engine.generated(job, params, ctx)

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
        return await self._follow_images(principal, params, ctx)

    async def get_job(self, principal: Principal, job_id: str, ctx: CallContext) -> dict[str, Any]:
        return await self._image_engine().get_job(principal, job_id, ctx)

    async def list_jobs(
        self, principal: Principal, ctx: CallContext, limit: int = 100
    ) -> list[dict[str, Any]]:
        return await self._image_engine().list_jobs(principal, ctx, limit)

    async def cancel_job(
        self, principal: Principal, job_id: str, ctx: CallContext
    ) -> dict[str, Any]:
        return await self._image_engine().cancel_job(principal, job_id, ctx)

    async def image_file(self, principal: Principal, file_id: str) -> tuple[Path, dict[str, Any]]:
        """A stored result file of this key's (another key's is not found)."""
        return await self._image_engine().file(principal, file_id)

    async def _image_chat(self, principal: Principal, body: Any, ctx: CallContext) -> ChatResponse:
        engine = self._image_engine()
        params = params_from_chat(body)
        job, _ = await self._start_image_job(principal, params, ctx)
        return await engine.chat_reply(job, params, ctx)  # type: ignore[return-value]

    async def _image_chat_stream(
        self, principal: Principal, body: Any, ctx: CallContext
    ) -> ImageChatStream:
        engine = self._image_engine()
        params = params_from_chat(body)
        if params.run_async:
            raise InvalidRequest("'async' and 'stream' cannot be combined.", param="async")
        generation = await self._follow_images(principal, params, ctx)
        options = body.get("stream_options") or {}
        return engine.chat_stream(generation, include_usage=bool(options.get("include_usage")))

    async def _follow_images(
        self, principal: Principal, params: ImageParams, ctx: CallContext
    ) -> ImageGeneration:
        events: asyncio.Queue[JobEvent] = asyncio.Queue()
        job, route = await self._start_image_job(principal, params, ctx, listener=events)
        return self._image_engine().generation(job, route, events, ctx)

    async def _start_image_job(
        self,
        principal: Principal,
        params: ImageParams,
        ctx: CallContext,
        listener: asyncio.Queue[JobEvent] | None = None,
    ) -> tuple[dict[str, Any], Route]:
        """Admit and route an image generation; returns its job once a deployment took it.

        Deployments, fallbacks, breakers and retries apply to handing the job over
        (connect, upload, submit): once one accepted it, the job is followed there.
        The job ends with exactly one usage record, however the attempts went.
        """
        engine = self._image_engine()
        ctx.attribute(principal.name)
        route = self.route_for(principal, params.model)
        ctx.attribute(principal.name, route.name, route.vendor)
        adapter = self._image_adapter(route)
        plan = self._plan_for(principal, route)
        # Image calls count no tokens; their budget is charged what the images will cost.
        await self._spend_request(principal, _images_cost(route, params))
        engine.check(principal, route, adapter, params, ctx)
        job = await engine.create_job(principal, route, params, ctx)
        trail = Trail(route.name)

        async def attempt(
            candidate: Route, _policy: Policy, _ticket: Ticket, hooks: VendorHooks | None
        ) -> None:
            adapter = self._image_adapter(candidate)
            await engine.submit(
                job, candidate, adapter, params, hooks=hooks, listener=listener, routing=trail.extra
            )

        try:
            served, ticket, _ = await self.router.run(
                plan, ctx, trail, attempt, operation="generate_content"
            )
        except GatewayError as exc:
            await engine.fail(job, trail.last or route, exc, trail.extra)
            raise
        except asyncio.CancelledError:  # the caller left before any deployment took it
            await asyncio.shield(engine.cancel_by_id(job["id"]))
            raise
        ticket.success()
        ctx.attribute(principal.name, served.name, served.vendor)
        return job, served

    # ---- Responses API objects: kept per key, run in the background --------------------

    def _response_log(self) -> ResponseService:
        if self._responses is None:
            raise NotFound("Stored responses are not enabled on this gateway.")
        return self._responses

    async def store_response(
        self, principal: Principal, response: dict[str, Any], items: list[dict[str, Any]]
    ) -> None:
        """Keep a Response (its latest state) and the conversation's input items."""
        await self._response_log().save(principal, response, items)

    async def stored_response(
        self, principal: Principal, response_id: str, param: str | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """This key's stored Response and its input items (another key's is not found)."""
        return await self._response_log().get(principal, response_id, param)

    async def delete_response(self, principal: Principal, response_id: str) -> None:
        await self._response_log().delete(principal, response_id)

    def run_in_background(
        self, principal: Principal, response_id: str, run: Callable[[], Awaitable[None]]
    ) -> None:
        """Run a background response's work (which calls this Gateway like any request)
        in this process; `cancel_response` or shutdown cancels it."""
        self._response_log().start(principal, response_id, run)

    async def cancel_response(self, principal: Principal, response_id: str) -> dict[str, Any]:
        return await self._response_log().cancel(principal, response_id)


class _Call:
    """One routed request and the single usage record it will leave."""

    __slots__ = (
        "admission",
        "ctx",
        "first_chunk_at",
        "plan",
        "principal",
        "recorded",
        "request",
        "route",
        "stream",
        "trail",
        "usage_writer",
    )

    def __init__(
        self,
        usage_writer: UsageWriter,
        principal: Principal,
        route: Route,
        plan: list[Route],
        request: ChatRequest,
        ctx: CallContext,
        admission: Admission,
    ) -> None:
        self.usage_writer = usage_writer
        self.principal = principal
        self.route = route
        self.plan = plan
        self.trail = Trail(route.name)
        self.request = request
        self.ctx = ctx
        self.admission = admission
        self.first_chunk_at: float | None = None
        self.recorded = False
        self.stream = True

    def serve(self, route: Route) -> None:
        """The deployment that answered (a sibling or a fallback after failures)."""
        self.route = route
        self.ctx.attribute(self.principal.name, route.name, route.vendor)

    def finish(
        self,
        prompt: int,
        completion: int,
        source: str,
        usage: CheckedUsage | None,
        *,
        status: str = "ok",
        http_status: int = 200,
        error_code: str | None = None,
    ) -> None:
        if self.recorded:
            return
        self.recorded = True
        if status != "ok" and self.trail.last is not None:
            self.route = self.trail.last  # a failed request is booked on what it tried last
        now = time.perf_counter()
        ctx = self.ctx
        ctx.report(status, prompt, completion)
        cache_read = cache_creation = reasoning = 0
        if usage is not None:
            cache_read, cache_creation = usage.cache_read, usage.cache_creation
            reasoning = usage.reasoning
        price = self.route.price
        cost = price.of_tokens(prompt, completion, cache_read) if price is not None else None
        self.admission.settle(prompt + completion, cost)
        if ctx.span.recording:
            _trace_usage(ctx, self.route, prompt, completion)
        self.usage_writer.submit(
            UsageRecord(
                request_id=ctx.request_id,
                key_id=self.principal.key_id,
                key_name=self.principal.name,
                route=self.route.name,
                vendor=self.route.vendor,
                upstream_model=self.route.upstream_model,
                interface=ctx.interface,
                status=status,
                http_status=http_status,
                error_code=error_code,
                prompt_tokens=prompt,
                completion_tokens=completion,
                latency_ms=(now - ctx.started) * 1000,
                ttft_ms=(self.first_chunk_at - ctx.started) * 1000 if self.first_chunk_at else None,
                stream=self.stream,
                cache_read_tokens=cache_read,
                cache_creation_tokens=cache_creation,
                usage_source=source,
                extra=_extra(self.trail.extra(), usage),
                cost=cost,
                currency=price.currency if price is not None else None,
                reasoning_tokens=reasoning,
            )
        )

    def fail(
        self,
        exc: BaseException,
        meter: StreamMeter | None = None,
        reported: CheckedUsage | None = None,
    ) -> None:
        """Record a failed or cancelled call, with the tokens it produced so far
        (or those the upstream `reported` for a reply that could not be used)."""
        if isinstance(exc, GatewayError):
            status, http_status, code = "error", exc.status, exc.code
            self.ctx.failed(code, exc.cause, getattr(exc, "upstream_status", None))
        elif isinstance(exc, asyncio.CancelledError | GeneratorExit):
            status, http_status, code = "cancelled", 499, "client_closed"
        else:
            log.error("request %s failed unexpectedly", self.ctx.request_id, exc_info=exc)
            status, http_status, code = "error", 500, "internal_error"
        if meter is not None and (meter.upstream_usage or self.first_chunk_at):
            prompt, completion, source, usage = meter.usage()
        elif reported is not None:
            prompt, completion, source, usage = *reported[:2], "upstream", reported
        else:
            prompt, completion, source, usage = 0, 0, "none", None
        self.finish(
            prompt,
            completion,
            source,
            usage,
            status=status,
            http_status=http_status,
            error_code=code,
        )


class LiveStreams:
    """How many chat streams are open in this process now (the dashboard shows it)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class ChatStream:
    """The client's view of a stream: canonical chunks, model renamed, usage exact.

    Iterate it, and always close it (`aclose`, or `async with`): closing early
    (a client disconnect) cancels the upstream call and records the tokens
    generated so far.
    """

    def __init__(
        self,
        call: _Call,
        upstream: AsyncIterator[ChatChunk],
        meter: StreamMeter,
        first: ChatChunk | None,
        ticket: Ticket | None = None,
        deadline: float | None = None,
        metrics: Metrics | None = None,
        live: LiveStreams | None = None,
    ) -> None:
        metrics = metrics or Metrics.disabled()
        self._call = call
        self._live = live
        if live is not None:
            live.count += 1
        self._upstream = upstream
        self._meter = meter
        self._first = first
        self._ticket = ticket
        self._deadline = deadline
        options = call.request.get("stream_options") or {}
        self._include_usage = bool(options.get("include_usage"))
        self._iterator = self._chunks()
        self._metrics = metrics
        self._open = True
        metrics.stream_opened(call.ctx.interface)

    def _closed(self) -> None:
        if self._open:
            self._open = False
            self._metrics.stream_closed(self._call.ctx.interface)

    @property
    def route(self) -> Route:
        return self._call.route

    def __aiter__(self) -> AsyncGenerator[ChatChunk]:
        return self._iterator

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._live is not None:
            self._live.count -= 1
            self._live = None
        await self._iterator.aclose()
        self._closed()
        if not self._call.recorded:
            self._call.fail(asyncio.CancelledError(), self._meter)
        if self._ticket is not None:
            self._ticket.release()  # never iterated to the end: says nothing about health

    async def _next_in_time(self) -> ChatChunk | None:
        """The next upstream chunk, within the route's total timeout (`_deadline`)."""
        try:
            async with asyncio.timeout_at(self._deadline):
                return await anext(self._upstream, None)
        except TimeoutError as exc:
            raise UpstreamTimeout(
                f"Upstream for model '{self._call.route.name}' exceeded its total timeout.",
                cause="total_timeout",
            ) from exc

    async def _chunks(self) -> AsyncGenerator[ChatChunk]:
        call, meter, name = self._call, self._meter, self._call.route.name
        include_usage = self._include_usage
        # Without a total timeout, the upstream's own awaitable: no coroutine per chunk.
        pull = (
            self._next_in_time
            if self._deadline is not None
            else partial(anext, self._upstream, None)
        )
        last: ChatChunk | None = None
        try:
            chunk = self._first
            while chunk is not None:
                try:
                    meter.observe(chunk)
                except MalformedReply as exc:
                    raise UpstreamError(
                        f"Upstream for model '{call.route.name}' sent a bad stream chunk: {exc}."
                    ) from exc
                chunk["model"] = name
                last = chunk
                if include_usage:
                    yield chunk
                elif chunk.get("choices"):
                    chunk.pop("usage", None)
                    yield chunk
                chunk = await pull()
            if self._ticket is not None:
                self._ticket.success()
            prompt, completion, source, usage = meter.usage()
            if include_usage and usage is None:
                yield _usage_chunk(last, name, prompt, completion)
            call.finish(prompt, completion, source, usage)
        except BaseException as exc:
            if self._ticket is not None:
                if isinstance(exc, GatewayError) and not isinstance(exc, TransformFailed):
                    self._ticket.failure()  # the upstream died mid-stream
                else:
                    self._ticket.release()
            call.fail(exc, meter)
            raise
        finally:
            self._closed()
            await close_quietly(self._upstream)


def _trace_chat_request(ctx: CallContext, request: ChatRequest) -> None:
    """The GenAI attributes of the request on its span (when traced)."""
    span = ctx.span
    if not span.recording:
        return
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    span.set_many(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": str(request.get("model")),
            "gen_ai.request.max_tokens": limit if isinstance(limit, int) else None,
            "gen_ai.request.temperature": _number(request.get("temperature")),
            "gen_ai.request.top_p": _number(request.get("top_p")),
            "lowart.stream": bool(request.get("stream")),
        }
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _trace_usage(ctx: CallContext, route: Route, prompt: int, completion: int) -> None:
    """What the call used, on the request's span, and the usage record's own span."""
    ctx.span.set_many(
        {
            "gen_ai.provider.name": route.vendor,
            "gen_ai.system": route.vendor,
            "gen_ai.response.model": route.upstream_model,
            "gen_ai.usage.input_tokens": prompt,
            "gen_ai.usage.output_tokens": completion,
            "lowart.route": route.name,
        }
    )
    ctx.span.child(
        "lowart.usage.record",
        {"lowart.route": route.name, "lowart.deployment": route.id, "lowart.status": ctx.status},
    ).end()


def _reply_usage(call: _Call, response: ChatResponse) -> tuple[int, int, str, CheckedUsage | None]:
    """A reply's usage, checked: the upstream's safe counts, or counted from its text.
    The reply carries the same numbers on to the client. Raises MalformedReply."""
    choices: Any = response.get("choices")
    if type(choices) is not list:
        raise MalformedReply("'choices' is not a list")
    if not all(type(choice) is dict for choice in choices):
        raise MalformedReply("a choice is not an object")
    reported = response.get("usage")
    usage = checked_usage(reported)
    if usage is not None:
        response["usage"] = usage.as_openai(reported)
        return usage.prompt, usage.completion, "upstream", usage
    meter = StreamMeter(call.request, call.route.upstream_model)
    for choice in choices:
        meter.observe({"choices": [{"delta": choice.get("message") or {}}]})
    prompt, completion, source, _ = meter.usage()
    response["usage"] = CheckedUsage(prompt, completion).as_openai()
    return prompt, completion, source, None


def _extra(routing: dict[str, Any] | None, usage: CheckedUsage | None) -> dict[str, Any] | None:
    """A usage record's `extra`: the routing trail, and reasoning tokens when there were any."""
    if usage is None or not usage.reasoning:
        return routing
    return {**(routing or {}), "reasoning_tokens": usage.reasoning}


def _images_cost(route: Route, params: ImageParams) -> Decimal | None:
    if route.price is None or route.price.image is None:
        return None
    return route.price.of_images(params.n or 1)


def _usage_chunk(last: ChatChunk | None, model: str, prompt: int, completion: int) -> ChatChunk:
    return {
        "id": (last or {}).get("id") or f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": (last or {}).get("created") or int(time.time()),
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }

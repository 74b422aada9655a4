"""Composition root: builds the engine once and runs every listener around it.

`Runtime` owns each shared resource (database engine, upstream HTTP session,
usage writer, caches) and closes them in reverse order. It builds the two
services the frontends use, the Gateway (calls) and Admin (configuration,
keys, usage queries) plus the agent-task service A2A keeps its tasks in, and
hands the listeners (HTTP with MCP at /mcp and A2A at /a2a, gRPC with A2A's
A2AService, MCP over stdio) those services only. `serve` is the one shutdown
sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from lowart import __version__
from lowart._logging import flush_access_log
from lowart.accounting import UsageJournal, UsageWriter
from lowart.adapters import (
    Adapter,
    AnthropicAdapter,
    ComfyUIAdapter,
    MockAdapter,
    OpenAIAdapter,
)
from lowart.admin import Admin
from lowart.agents import AgentTasks
from lowart.auth import Authenticator, open_limiter
from lowart.config import Settings
from lowart.frontends.a2a import mount_a2a
from lowart.frontends.http import AppExtension, HttpListener
from lowart.frontends.mcp import mount_mcp
from lowart.gateway import Gateway
from lowart.images import ImageJobs, ImageService
from lowart.responses import ResponseService
from lowart.routing import Breakers, HealthPublisher, ModelManager
from lowart.store import (
    AgentTaskStore,
    AliasStore,
    FallbackStore,
    FileStore,
    HealthStore,
    JobStore,
    KeyStore,
    McpServerStore,
    ModelStore,
    ResponseStore,
    SecretBox,
    ToolCallStore,
    ToolPolicyStore,
    ToolSessionStore,
    UsageStore,
    is_data_error,
    migrate,
    open_engine,
    read_version,
)
from lowart.telemetry import Metrics, Tracing, open_tracing
from lowart.toolhub import ToolHub
from lowart.toolruns import LoopBounds, ToolAccess, ToolLoop
from lowart.transforms import ScriptLimits, ScriptRegistry
from lowart.upstream import Timeouts, UpstreamClient

if TYPE_CHECKING:
    from lowart.frontends.a2a import A2aAgents
    from lowart.frontends.grpc import GrpcExtension, GrpcListener

__all__ = ["ListenError", "Runtime", "serve", "serve_mcp_stdio"]

log = logging.getLogger("lowart")

_YOUNG_GC_THRESHOLD = 5000  # allocations between collections of the youngest generation


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    admin: Admin
    gateway: Gateway
    usage_writer: UsageWriter
    authenticator: Authenticator
    models: ModelManager
    session: aiohttp.ClientSession
    adapters: dict[str, Adapter]
    metrics: Metrics
    tracing: Tracing
    agent_tasks: AgentTasks
    hub: ToolHub
    """The upstream MCP servers, their tools, policies and audit (one per process)."""
    tool_access: ToolAccess
    """The hub as frontends use it (/mcp, `lowart mcp`, the tool loop)."""
    _applier: _Applier = field(repr=False)
    _stack: AsyncExitStack = field(repr=False)
    bootstrap_key: str | None = None
    _a2a: A2aAgents | None = field(default=None, repr=False)
    _grpc: GrpcListener | None = field(default=None, repr=False)
    _tool_loop: ToolLoop | None = field(default=None, repr=False)

    @classmethod
    async def open(cls, settings: Settings, *, background: bool = True) -> Runtime:
        stack = AsyncExitStack()
        try:
            return await cls._build(settings, stack, background)
        except BaseException:
            await stack.aclose()
            raise

    @classmethod
    async def _build(cls, settings: Settings, stack: AsyncExitStack, background: bool) -> Runtime:
        metrics = (
            Metrics(key_labels=settings.metrics_key_labels)
            if settings.metrics != "off"
            else Metrics.disabled()
        )
        tracing = open_tracing(settings.otel)
        stack.push_async_callback(tracing.close)  # last: it exports the spans of the shutdown
        engine = open_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        await migrate(engine)
        secrets = SecretBox.from_settings(settings.secret_key, settings.secret_key_file)
        key_store, model_store, usage_store = (
            KeyStore(engine),
            ModelStore(engine),
            UsageStore(engine),
        )
        fallback_store, health_store = FallbackStore(engine), HealthStore(engine)
        authenticator = Authenticator(key_store)
        models = ModelManager(
            model_store,
            secrets,
            fallback_store,
            aliases=AliasStore(engine),
            api_key_env_allow=settings.api_key_env_allow,
        )
        await models.refresh()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True),
            auto_decompress=True,
        )
        stack.push_async_callback(session.close)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=settings.connect_timeout, sock_read=settings.read_timeout
        )
        upstream = UpstreamClient(
            timeouts=Timeouts(connect=settings.connect_timeout, read=settings.read_timeout),
            user_agent=f"lowart/{__version__}",
            max_event_bytes=settings.upstream_max_event_bytes,
        )
        stack.push_async_callback(upstream.close)
        adapters: dict[str, Adapter] = {
            "openai": OpenAIAdapter(upstream),
            "anthropic": AnthropicAdapter(upstream),
            "mock": MockAdapter(),
            "comfyui": ComfyUIAdapter(session, timeout, generation_timeout=settings.read_timeout),
        }
        for adapter in adapters.values():
            stack.push_async_callback(adapter.close)
        journal = None
        if settings.usage_journal:  # one directory per database: never replayed into another
            database = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
            journal = UsageJournal(settings.data_dir / "usage-journal" / database)
        writer = UsageWriter(
            usage_store.write_batch,
            flush_seconds=settings.usage_flush_seconds,
            batch_size=settings.usage_batch_size,
            is_data_error=is_data_error,
            journal=journal,
            metrics=metrics,
            tracing=tracing,
        )
        if background:
            writer.recover()  # what a killed process had served but not yet written
        writer.start()
        stack.push_async_callback(writer.close)
        limiter = await open_limiter(
            settings.redis_url,
            prefix=settings.redis_prefix,
            baseline=usage_store.used_tokens,
            spent=usage_store.spent,
            stack=stack,
        )
        publisher = HealthPublisher(health_store)
        stack.push_async_callback(publisher.close)
        scripts = ScriptRegistry(ScriptLimits.from_settings(settings), metrics)
        jobs = ImageJobs(
            JobStore(engine),
            FileStore(engine, settings.data_dir),
            lambda name: gateway.image_route(name),  # resolved when a job resumes
            writer,
            metrics=metrics,
        )
        stack.push_async_callback(jobs.close)  # before the session and writer close
        breakers = Breakers(on_change=publisher.publish)
        responses = ResponseService(ResponseStore(engine))
        stack.push_async_callback(responses.close)  # background runs record their usage first
        metrics.watch_circuits(partial(_circuit_states, models, breakers))
        gateway = Gateway(
            authenticator=authenticator,
            limiter=limiter,
            models=models,
            adapters=adapters,
            usage=writer,
            breakers=breakers,
            hooks_for=scripts.hooks_for,
            images=ImageService(jobs, jobs.files, settings.public_url),
            responses=responses,
            metrics=metrics,
            tracing=tracing,
        )
        agent_tasks = AgentTasks(AgentTaskStore(engine))
        hub = ToolHub(
            McpServerStore(engine),
            ToolPolicyStore(engine),
            ToolCallStore(engine),
            secrets,
            default_policy=settings.tool_default_policy,
            metrics=metrics,
            keepalive=settings.tool_keepalive_seconds,
            is_data_error=is_data_error,
        )
        stack.push_async_callback(hub.close)  # stdio children end before the engine closes
        applied = _Applier(engine, authenticator, models, hub)
        admin = Admin.over(
            engine,
            settings,
            secrets,
            changed=applied.apply,
            flush_usage=writer.flush,
            flush_tool_calls=hub.audit.flush,
            live_circuit=breakers.live_state,
            reset_circuit=breakers.reset,
        )
        runtime = cls(
            settings=settings,
            engine=engine,
            admin=admin,
            gateway=gateway,
            usage_writer=writer,
            authenticator=authenticator,
            models=models,
            session=session,
            adapters=adapters,
            metrics=metrics,
            tracing=tracing,
            agent_tasks=agent_tasks,
            hub=hub,
            tool_access=ToolAccess(hub),
            _applier=applied,
            _stack=stack,
        )
        await applied.start()
        await hub.start()  # connects in background tasks: returns at once
        if background:
            await jobs.resume()  # image jobs a previous process left running on ComfyUI
            runtime._spawn(stack, jobs.keep_leases(), "lowart-job-leases")
            if settings.file_retention_days:
                runtime._spawn(
                    stack,
                    _retain("result files", jobs.files.prune, settings.file_retention_days),
                    "lowart-file-retention",
                )
            if settings.response_retention_days:
                runtime._spawn(
                    stack,
                    _retain("responses", responses.prune, settings.response_retention_days),
                    "lowart-response-retention",
                )
            runtime._spawn(stack, runtime._watch_config(), "lowart-config-watch")
            if settings.usage_retention_days:
                runtime._spawn(stack, runtime._prune_usage(), "lowart-usage-retention")
            if settings.a2a_enabled and settings.a2a_task_retention_days:
                runtime._spawn(
                    stack,
                    _retain("A2A tasks", agent_tasks.prune, settings.a2a_task_retention_days),
                    "lowart-a2a-task-retention",
                )
        return runtime

    @staticmethod
    def _spawn(stack: AsyncExitStack, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)

        async def _stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(_stop)

    async def close(self) -> None:
        await self._stack.aclose()

    async def reload(self) -> None:
        """Apply configuration written straight to the store (Admin's writes apply
        themselves; the watcher would notice within a tick)."""
        await self._applier.apply()

    def a2a_agents(self) -> A2aAgents | None:
        """The A2A agents, shared by the HTTP and gRPC bindings (None when A2A is off).

        Built on first use: the a2a SDK loads only in a process that serves it."""
        if not self.settings.a2a_enabled:
            return None
        if self._a2a is None:
            from lowart.frontends.a2a import A2aAgents

            self._a2a = A2aAgents(
                self.gateway,
                self.agent_tasks,
                self.settings,
                grpc_targets=lambda: self._grpc.targets if self._grpc is not None else [],
            )
            self._stack.push_async_callback(self._a2a.close)
        return self._a2a

    def http_listener(self) -> HttpListener:
        """The HTTP listener, with MCP's streamable HTTP at /mcp and A2A when enabled."""
        extensions: list[AppExtension] = []
        if self.settings.mcp_enabled:
            extensions.append(
                partial(mount_mcp, self.gateway, self.admin, self.settings, tools=self.tool_access)
            )
        if self.settings.a2a_enabled:
            extensions.append(partial(mount_a2a, self.a2a_agents))  # the SDK loads on first use
        return HttpListener(self.gateway, self.admin, self.settings, extensions, self.tool_loop())

    def tool_loop(self) -> ToolLoop:
        """The tool loop of chat and Responses requests with MCP tools (built on first
        use, with the hourly removal of sessions that expired a day ago)."""
        if self._tool_loop is None:
            settings = self.settings
            store = ToolSessionStore(self.engine)
            bounds = LoopBounds(
                max_steps=settings.tool_max_steps,
                max_seconds=settings.tool_max_seconds,
                approval_ttl=settings.tool_approval_ttl,
            )
            self._tool_loop = ToolLoop(self.gateway, self.hub, store, bounds)
            self._spawn(
                self._stack, _retain("tool sessions", store.prune, 1), "lowart-tool-sessions"
            )
        return self._tool_loop

    def grpc_listener(self) -> GrpcListener | None:
        """The gRPC listener, or None when no gRPC address or socket is configured.

        grpcio and the stubs cost ~23 MiB: a gateway without gRPC never loads them.
        """
        settings = self.settings
        if not settings.grpc or not (settings.grpc_addr or settings.grpc_uds):
            return None
        from lowart.frontends.grpc import GrpcListener

        extensions: list[GrpcExtension] = []
        agents = self.a2a_agents()
        if agents is not None:
            from lowart.frontends.a2a import add_a2a_service

            extensions.append(partial(add_a2a_service, agents))
        self._grpc = GrpcListener.from_settings(self.gateway, settings, extensions)
        return self._grpc

    async def _watch_config(self) -> None:
        """Notice changes made by the CLI or another gateway process: one cheap read a tick."""
        while True:
            await asyncio.sleep(self.settings.config_poll_seconds)
            try:
                await self._applier.apply_if_changed()
            except Exception:
                log.exception("checking the configuration version failed")

    async def _prune_usage(self) -> None:
        days = self.settings.usage_retention_days or 0
        while True:
            try:
                removed = await self.admin.usage.prune(datetime.now(UTC) - timedelta(days=days))
                if removed:
                    log.info(
                        "usage retention removed %d raw records older than %d days", removed, days
                    )
            except Exception:
                log.exception("usage retention failed")
            await asyncio.sleep(3600)

    async def bootstrap_admin_key(self) -> str | None:
        """On a database with no keys, make the first admin key (shown once)."""
        if await self.admin.keys.count():
            return None
        key, _ = await self.admin.create_key("admin", admin=True)
        self.bootstrap_key = key
        return key


def _circuit_states(models: ModelManager, breakers: Breakers) -> Iterator[tuple[str, str, str]]:
    """(route, deployment, state) of each deployment this process has used (for /metrics)."""
    for name, routes in models.deployments().items():
        for route in routes:
            state = breakers.live_state(route.id)
            if state is not None:
                yield name, str(route.id), state


async def _retain(what: str, prune: Callable[[datetime], Awaitable[int]], days: int) -> None:
    """Hourly, `prune` removes `what` older than `days` (result files, stored
    responses, A2A tasks); one failed pass is logged and the next hour tries again."""
    while True:
        try:
            removed = await prune(datetime.now(UTC) - timedelta(days=days))
            if removed:
                log.info("retention removed %d %s older than %d days", removed, what, days)
        except Exception:
            log.exception("%s retention failed", what)
        await asyncio.sleep(3600)


class _Applier:
    """Applies configuration changes to this process's caches.

    Admin calls `apply` right after each of its writes; the watcher calls
    `apply_if_changed` each tick to pick up changes made by the CLI or another
    gateway process (one cheap version read).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        authenticator: Authenticator,
        models: ModelManager,
        hub: ToolHub,
    ) -> None:
        self._engine = engine
        self._authenticator = authenticator
        self._models = models
        self._hub = hub
        self._version = 0

    async def start(self) -> None:
        self._version = await read_version(self._engine)

    async def apply(self) -> None:
        self._version = await read_version(self._engine)
        self._authenticator.invalidate()
        await self._models.refresh()
        await self._hub.refresh()

    async def apply_if_changed(self) -> None:
        if await read_version(self._engine) != self._version:
            await self.apply()


async def serve_mcp_stdio(settings: Settings, api_key: str | None) -> int:
    """`lowart mcp`: the engine in this process, one MCP client on stdin/stdout."""
    from lowart.frontends.mcp._stdio import refuse, serve_stdio

    if not api_key:
        refuse("No API key. Give it in LOWART_API_KEY or with --api-key.")
        return 2
    runtime = await Runtime.open(settings)
    try:
        return await serve_stdio(
            runtime.gateway,
            runtime.admin,
            api_key,
            close_engine=runtime.close,
            grace=settings.shutdown_grace,
            tool_access=runtime.tool_access,
        )
    finally:
        await runtime.close()


class ListenError(Exception):
    """A listener could not take its address; the operator needs one clear line."""


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Run every listener until SIGTERM/SIGINT, then shut down in one sequence:
    stop accepting, let streams finish within the grace period, flush usage, close."""
    runtime = await Runtime.open(settings)
    try:
        key = await runtime.bootstrap_admin_key() if settings.bootstrap_admin else None
        if key:
            _announce_admin_key(key)
        http = runtime.http_listener()
        grpc = runtime.grpc_listener()
        try:
            await http.start()
            if grpc is not None:
                await grpc.start()
        except (OSError, RuntimeError) as exc:  # a port taken, a socket path in use
            await http.stop()
            raise ListenError(str(exc)) from exc
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "lowart serving on %s", ", ".join(http.addresses + (grpc.addresses if grpc else []))
        )
        # Everything built so far lives as long as the process: move it out of the
        # collector's reach, so full collections scan only per-request garbage
        # (measured: p99 at 64 concurrent requests 79 -> 35 ms).
        gc.collect()
        gc.freeze()
        # A request leaves a few hundred container objects that reference counting
        # frees; at the default threshold (700) the young generation was still
        # scanned every couple of requests, ~8 % of a busy gateway's CPU. At 5000:
        # collector time per request ~40 -> ~10-15 µs, longest young scan ~2 -> ~5 ms.
        gc.set_threshold(_YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
        if ready is not None:
            ready.set()
        await stop.wait()
        log.info(
            "shutting down: draining in-flight requests (up to %.0fs)", settings.shutdown_grace
        )
        # gRPC health turns NOT_SERVING at once; both drain in parallel within the grace.
        await asyncio.gather(http.stop(), *([grpc.stop()] if grpc is not None else []))
    finally:
        await runtime.close()
        flush_access_log()
        log.info("shutdown complete")


def _announce_admin_key(key: str) -> None:
    print(
        "\nCreated the first admin API key (shown only this once, store it now):\n\n"
        f"    {key}\n\n"
        "Make more keys with:  lowart keys create --name NAME [--admin]\n",
        file=sys.stdout,
        flush=True,
    )

"""Real servers for tests: the gateway and fake upstreams on loopback.

They run on an event loop in a background thread, so tests can drive them with
the official synchronous SDKs as well as async clients, exactly as a user would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from lowart.app import Runtime
from lowart.config import Settings
from lowart.frontends.grpc import GrpcListener
from lowart.frontends.http import HttpListener

T = TypeVar("T")


class LoopThread:
    """An asyncio loop in a daemon thread; `run` executes a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@dataclass
class GatewayHandle:
    """A running gateway plus helpers to configure it and read what it recorded."""

    loop: LoopThread
    runtime: Runtime
    listener: HttpListener
    admin_key: str
    extra: dict[str, Any] = field(default_factory=dict)
    grpc: GrpcListener | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def grpc_target(self) -> str:
        """The gRPC TCP target (after `start_grpc`)."""
        assert self.grpc is not None and self.grpc.port, "call start_grpc first"
        return f"127.0.0.1:{self.grpc.port}"

    def start_grpc(self, uds: str | None = None) -> GrpcListener:
        """Serve gRPC on a free loopback port, and on `uds` if given; stopped with the gateway."""

        async def start() -> GrpcListener:
            listener = GrpcListener(
                self.runtime.gateway, self.runtime.settings, address="127.0.0.1:0", uds=uds
            )
            await listener.start()
            return listener

        self.grpc = self.run(start())
        return self.grpc

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.loop.run(coro, timeout)

    def create_key(self, name: str, **options: Any) -> str:
        async def create() -> str:
            key, _ = await self.runtime.admin.create_key(name, **options)
            await self.runtime.reload()
            return key

        return self.run(create())

    def add_model(self, name: str, vendor: str, **fields: Any) -> None:
        async def add() -> None:
            await self.runtime.admin.add_model(name, vendor=vendor, **fields)
            await self.runtime.reload()

        self.run(add())

    def admin_call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One admin API request over real HTTP; returns (status, parsed JSON body)."""
        import aiohttp

        async def call() -> tuple[int, Any]:
            headers = {"Authorization": f"Bearer {self.admin_key}"}
            async with (
                aiohttp.ClientSession() as session,
                session.request(method, self.base_url + path, json=body, headers=headers) as resp,
            ):
                return resp.status, await resp.json(content_type=None)

        return self.run(call())

    def usage_records(self) -> list[dict[str, Any]]:
        """Every usage record written so far, oldest first (flushes the queue first)."""

        async def read() -> list[dict[str, Any]]:
            await self.runtime.usage_writer.flush()
            return list(reversed(await self.runtime.admin.usage.records(limit=10_000)))

        return self.run(read())

    def wait_for_records(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Poll until at least `count` records exist (streams record when they end)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            records = self.usage_records()
            if len(records) >= count or time.monotonic() > deadline:
                return records
            time.sleep(0.05)


def test_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lowart.db'}",
        host="127.0.0.1",
        port=0,
        secret_key="test-secret",
        secret_key_file=tmp_path / "lowart.key",
        config_poll_seconds=0.2,
        usage_flush_seconds=0.05,
        shutdown_grace=2.0,
        bootstrap_admin=False,
        grpc_addr="127.0.0.1:0",
        data_dir=tmp_path / "data",
    )
    return replace(base, **overrides)


test_settings.__test__ = False  # a factory, not a test, though its name starts with test_


def start_gateway(
    loop: LoopThread, settings: Settings, admin_key_name: str = "test-admin"
) -> GatewayHandle:
    async def start() -> GatewayHandle:
        runtime = await Runtime.open(settings)
        key, _ = await runtime.admin.create_key(admin_key_name, admin=True)
        listener = runtime.http_listener()
        await listener.start()
        return GatewayHandle(loop=loop, runtime=runtime, listener=listener, admin_key=key)

    return loop.run(start())


def stop_gateway(handle: GatewayHandle) -> None:
    async def stop() -> None:
        if handle.grpc is not None:
            await handle.grpc.stop()
        await handle.listener.stop()
        await handle.runtime.close()

    handle.run(stop())

"""Two `lowart serve` processes sharing this machine's PostgreSQL and Redis.

One key's RPM holds across both, usage from both lands in one database, and a
model added through one is served by the other without a restart.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from lowart.admin import Admin
from lowart.store import (
    FallbackStore,
    KeyStore,
    ModelStore,
    SecretBox,
    UsageStore,
    migrate,
    open_engine,
)
from lowart.store._tables import usage_records
from tests.support.fake_openai import closed_port

SECRET = "multi-process-secret"


async def _prepare(url: str, tmp_path: Path) -> tuple[str, str]:
    engine = open_engine(url)
    try:
        await migrate(engine)
        admin = Admin(
            KeyStore(engine),
            ModelStore(engine),
            UsageStore(engine),
            SecretBox.from_settings(SECRET, tmp_path / "unused.key"),
            fallbacks=FallbackStore(engine),
        )
        admin_key, _ = await admin.create_key("ops", admin=True)
        shared_key, _ = await admin.create_key("shared", rpm=10)
        return admin_key, shared_key
    finally:
        await engine.dispose()


async def _request_ids(url: str) -> list[str]:
    engine = open_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.select(usage_records.c.request_id))).scalars())
    finally:
        await engine.dispose()


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = closed_port()
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lowart", "serve", "--port", str(self.port), "--no-grpc"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


async def _wait_healthy(servers: list[Server], within: float = 40) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        for server in servers:
            while True:
                if server.process.poll() is not None:
                    raise AssertionError(server.log_path.read_text())
                try:
                    async with session.get(server.url + "/health") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("server did not start:\n" + server.log_path.read_text())
                await asyncio.sleep(0.1)


@pytest.fixture
def servers(postgres_url, redis_service, tmp_path) -> Iterator[tuple[list[Server], str, str]]:
    admin_key, shared_key = asyncio.run(_prepare(postgres_url, tmp_path))
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": postgres_url,
        "LOWART_REDIS_URL": redis_service.url,
        "LOWART_REDIS_PREFIX": redis_service.prefix,
        "LOWART_SECRET_KEY": SECRET,
        "LOWART_CONFIG_POLL_SECONDS": "0.1",
        "LOWART_SHUTDOWN_GRACE": "2",
    }
    started = [Server(env, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        asyncio.run(_wait_healthy(started))
        yield started, admin_key, shared_key
    finally:
        for server in started:
            server.stop()


async def _chat(session, server: Server, key: str, model: str, request_id: str) -> int:
    async with session.post(
        server.url + "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {key}", "x-request-id": request_id},
    ) as resp:
        await resp.read()
        return resp.status


def test_two_processes_share_limits_usage_and_configuration(
    servers, postgres_url, fake_openai, loop_thread
):
    (a, b), admin_key, shared_key = servers

    async def scenario() -> Counter:
        async with aiohttp.ClientSession() as session:
            # 30 requests for one key with RPM 10, spread over both processes at once
            statuses = Counter(
                await asyncio.gather(
                    *(
                        _chat(session, (a, b)[i % 2], shared_key, "mock", f"rpm-{i}")
                        for i in range(30)
                    )
                )
            )
            # unlimited traffic through each process, tagged so we can find it
            for i in range(3):
                assert await _chat(session, a, admin_key, "mock", f"from-a-{i}") == 200
                assert await _chat(session, b, admin_key, "mock", f"from-b-{i}") == 200
            # a model added through A is served by B without a restart
            async with session.post(
                a.url + "/admin/models",
                json={
                    "name": "late",
                    "vendor": "openai",
                    "base_url": fake_openai.base_url,
                    "upstream_model": "echo",
                },
                headers={"Authorization": f"Bearer {admin_key}"},
            ) as resp:
                assert resp.status == 201
            deadline = time.monotonic() + 5
            while await _chat(session, b, admin_key, "late", "late-on-b") != 200:
                assert time.monotonic() < deadline, "B never saw the model added through A"
                await asyncio.sleep(0.05)
            return statuses

    statuses = asyncio.run(scenario())
    assert statuses == {200: 10, 429: 20}
    assert len(fake_openai.requests) >= 1

    deadline = time.monotonic() + 5
    while True:
        ids = asyncio.run(_request_ids(postgres_url))
        done = sum(i.startswith("rpm-") for i in ids) == 10 and "late-on-b" in ids
        if done and all(f"from-{s}-{i}" in ids for s in "ab" for i in range(3)):
            break
        assert time.monotonic() < deadline, f"usage missing from the shared database: {ids}"
        time.sleep(0.1)

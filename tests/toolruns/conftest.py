"""A live gateway with the test upstream MCP server registered as `demo` (stdio), a
client key, and helpers for policies, the audit and the confirm endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.support.servers import GatewayHandle, LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_for
from tests.toolhub.conftest import http_upstream, register, stdio_server, wait_connected

__all__ = ["http_upstream"]  # the HTTP upstream fixture, for these tests too

ECHO = 'Please use demo__echo with {"text": "hello tools"}'


@dataclass
class ToolGateway:
    handle: GatewayHandle
    key: str
    tmp_path: Path

    def client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.handle.openai_base_url, api_key=key or self.key, max_retries=0
        )

    def policy(self, pattern: str, policy: str) -> None:
        async def put() -> None:
            tools = self.handle.runtime.admin.tools
            assert tools is not None
            await tools.set_policy(pattern, policy)
            await self.handle.runtime.reload()

        self.handle.run(put())

    def audit(self) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            tools = self.handle.runtime.admin.tools
            assert tools is not None
            return list(await tools.tool_calls())

        return self.handle.run(read())

    def confirm(self, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        return httpx.post(
            self.handle.base_url + "/v1/tools/confirm",
            json=body,
            headers={"Authorization": f"Bearer {key or self.key}"},
            timeout=30,
        )


def open_tool_gateway(
    loop_thread: LoopThread, tmp_path: Path, admin_name: str = "test-admin", **settings: Any
) -> GatewayHandle:
    handle = start_gateway(loop_thread, settings_for(tmp_path, **settings), admin_name)
    return handle


@pytest.fixture
def tool_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def tools(
    loop_thread: LoopThread, tmp_path: Path, tool_settings: dict[str, Any]
) -> Iterator[ToolGateway]:
    handle = open_tool_gateway(loop_thread, tmp_path, **tool_settings)
    try:
        register(handle, "demo", **stdio_server())
        wait_connected(handle, "demo")
        key = handle.create_key("tool-user")
        yield ToolGateway(handle, key, tmp_path)
    finally:
        stop_gateway(handle)

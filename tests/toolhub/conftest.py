"""A live gateway with the test upstream MCP server registered (stdio and HTTP)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import GatewayHandle, LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_for
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET = "upstream-s3cret-9f8e7d6c"


def stdio_server(**overrides: object) -> dict[str, object]:
    """The fields that register the test server over stdio (run from this checkout)."""
    return {
        "command": sys.executable,
        "args": ["-m", "tests.support.mcp_upstream", "stdio"],
        "env": {"PYTHONPATH": str(ROOT), "UPSTREAM_SECRET": SECRET},
        "timeout": 5,
        **overrides,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HttpUpstream:
    """The test server over streamable HTTP (uvicorn) in a child process, restartable
    on the same port (to take it down and bring it back)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.mcp_upstream", "http", str(self.port)],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "UPSTREAM_SECRET": SECRET},
        )
        assert wait_until(self._listening, timeout=20), "the HTTP upstream did not start"

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def http_upstream() -> Iterator[HttpUpstream]:
    upstream = HttpUpstream()
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture
def hub_gateway(loop_thread: LoopThread, tmp_path: Path) -> Iterator[GatewayHandle]:
    settings = settings_for(tmp_path, tool_keepalive_seconds=0.5)
    handle = start_gateway(loop_thread, settings)
    yield handle
    stop_gateway(handle)


def wait_connected(gateway: GatewayHandle, name: str, timeout: float = 20) -> None:
    def connected() -> bool:
        return gateway.runtime.hub.servers().get(name, {}).get("state") == "connected"

    assert wait_until(connected, timeout=timeout, interval=0.05), gateway.runtime.hub.servers()


def register(gateway: GatewayHandle, name: str, **fields: object) -> dict[str, object]:
    async def add() -> dict[str, object]:
        tools = gateway.runtime.admin.tools
        assert tools is not None
        return await tools.add_server(name, **fields)

    return gateway.run(add())


__all__ = ["SECRET", "HttpUpstream", "free_port", "register", "stdio_server", "wait_connected"]
_ = time

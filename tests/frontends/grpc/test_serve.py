"""`lowart serve` runs gRPC next to HTTP, as configured by flags and environment."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from lowart._proto import chat_pb2, chat_pb2_grpc
from lowart.config import Settings
from tests.frontends.grpc.conftest import auth


def _wait_for(path: Path, pattern: str, proc: subprocess.Popen, timeout: float = 30) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text() if path.exists() else "")
        if found:
            return found
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not seen; output:\n{path.read_text()}")


def test_serve_runs_grpc_on_tcp_and_unix_socket(tmp_path: Path, short_dir: Path) -> None:
    sock = short_dir / "lowart-grpc.sock"
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {**os.environ, "LOWART_SECRET_KEY": "test-secret", "LOWART_GRPC_UDS": str(sock)}
    command = [sys.executable, "-m", "lowart", "serve", "--port", "0", "--grpc", "127.0.0.1:0"]
    command += ["--db", f"sqlite+aiosqlite:///{tmp_path / 'lowart.db'}"]
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=stdout, stderr=stderr)
    try:
        port = int(_wait_for(err, r"serving on .*grpc://127\.0\.0\.1:(\d+)", proc).group(1))
        assert f"grpc+unix://{sock}" in err.read_text()
        key = _wait_for(out, r"(la-\S+)", proc).group(1)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with grpc.insecure_channel(f"unix://{sock}") as channel:
            response = chat_pb2_grpc.ChatServiceStub(channel).CreateChatCompletion(
                chat_pb2.CreateChatCompletionRequest(
                    model="mock", messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="x")]
                ),
                metadata=auth(key),
                timeout=10,
            )
            assert response.choices[0].message.content.endswith("You said: x")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LISTEN_MODE", "LOWART_GRPC_ADDR", "LOWART_GRPC_UDS"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env()
    assert (default.grpc, default.grpc_addr, default.grpc_uds) == (True, "127.0.0.1:50051", None)
    monkeypatch.setenv("LOWART_GRPC_ADDR", "0.0.0.0:6000")
    assert Settings.from_env().grpc_addr == "0.0.0.0:6000"
    assert Settings.from_env(grpc=False).grpc is False
    monkeypatch.setenv("LISTEN_MODE", "UDS")
    uds_only = Settings.from_env()
    assert (uds_only.grpc_addr, uds_only.grpc_uds) == (None, "./lowart-grpc.sock")
    monkeypatch.setenv("LISTEN_MODE", "BOTH")
    monkeypatch.setenv("LOWART_GRPC_UDS", "/run/g.sock")
    both = Settings.from_env()
    assert (both.grpc_addr, both.grpc_uds) == ("0.0.0.0:6000", "/run/g.sock")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (True, "127.0.0.1:50051", None)),
        (["--grpc", "[::1]:7000", "--grpc-uds", "g.sock"], (True, "[::1]:7000", "g.sock")),
        (["--no-grpc"], (False, "127.0.0.1:50051", None)),
    ],
)
def test_serve_flags(monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: tuple) -> None:
    from lowart.cli import _serve_settings, build_parser

    for name in ("LISTEN_MODE", "LOWART_GRPC_ADDR", "LOWART_GRPC_UDS"):
        monkeypatch.delenv(name, raising=False)
    settings = _serve_settings(build_parser().parse_args(["serve", *argv]))
    assert (settings.grpc, settings.grpc_addr, settings.grpc_uds) == expected

"""The JavaScript A2A SDK (`@a2a-js/sdk`, pinned in tests/clients/a2a_js) against the
JSON-RPC and REST bindings: discovery, send, get, list, context, stream, resubscribe,
cancel and a missing task's error, as an agent built on it would call lowart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frontends.a2a.conftest import start_a2a_gateway
from tests.support.npm import npm_ci_once, output_tail
from tests.support.servers import GatewayHandle, LoopThread, stop_gateway

PACKAGE = Path(__file__).resolve().parent / "a2a_js"
SCRIPT = PACKAGE / "a2a_client.mjs"


@pytest.fixture(scope="session")
def a2a_js() -> Path:
    """Install the pinned SDK once (node_modules is kept between runs)."""
    npm_ci_once(PACKAGE, timeout=300)
    return SCRIPT


@pytest.fixture
def a2a_gateway(loop_thread: LoopThread, tmp_path: Path) -> Iterator[GatewayHandle]:
    short = Path(f"/tmp/lowart-a2a-js-{os.getpid()}")
    short.mkdir(exist_ok=True)
    handle = start_a2a_gateway(loop_thread, tmp_path, short)
    yield handle
    stop_gateway(handle)
    shutil.rmtree(short, ignore_errors=True)


@pytest.mark.parametrize(
    ("binding", "transport"), [("JSONRPC", "JsonRpcTransport"), ("HTTP+JSON", "_RestTransport")]
)
def test_javascript_sdk(a2a_gateway: GatewayHandle, a2a_js: Path, binding, transport) -> None:
    result = subprocess.run(
        ["node", str(a2a_js), a2a_gateway.base_url, "echo", "long", a2a_gateway.admin_key, binding],
        env={"PATH": os.environ["PATH"]},  # no proxy, no telemetry: loopback only
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, output_tail(result)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["transport"] == transport
    answer = "This is the lowart mock model. You said: hello from javascript"
    assert summary["sent"] == {"state": "TASK_STATE_COMPLETED", "answer": answer}
    assert summary["got"] == {"same": True, "answer": answer}
    assert summary["secondContext"] is True and summary["listed"] == 2
    streamed = summary["streamed"]
    assert streamed["answer"] == "This is the lowart mock model. You said: stream this please"
    assert streamed["finalState"] == "TASK_STATE_COMPLETED"
    assert summary["resubscribed"] == 3
    assert summary["cancelled"] == "TASK_STATE_CANCELED"
    assert summary["missing"].endswith("TaskNotFoundError")
    records = a2a_gateway.wait_for_records(4)  # send, second turn, stream, cancelled
    assert len(records) == 4 and {r["interface"] for r in records} == {"a2a"}
    assert "cancelled" in {r["status"] for r in records}

"""`lowart mcp`: the MCP server over stdio, launched as a child process like an agent does."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TextIO

import pytest

from lowart.app import Runtime
from lowart.cli import main
from lowart.config import Settings
from tests.support.mcp_client import stdio_session

SECRET = "stdio-test-secret"


@pytest.fixture
def prepared(loop_thread, tmp_path, fake_openai):
    """A database with an agent key and routes to the fake upstream, as an operator leaves it."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lowart.db'}",
        secret_key=SECRET,
        port=None,
    )

    async def prepare() -> str:
        runtime = await Runtime.open(settings, background=False)
        try:
            key, _ = await runtime.admin.create_key("agent")
            for name, upstream in (("fake", "echo"), ("broken", "fail-500")):
                await runtime.admin.add_model(
                    name,
                    vendor="openai",
                    base_url=fake_openai.base_url,
                    upstream_model=upstream,
                    api_key="sk-upstream",
                )
            return key
        finally:
            await runtime.close()

    key = loop_thread.run(prepare())
    env = {"LOWART_DATABASE_URL": settings.database_url, "LOWART_SECRET_KEY": SECRET}
    return settings, env, key


def usage_records(loop_thread, settings: Settings) -> list[dict]:
    async def read() -> list[dict]:
        runtime = await Runtime.open(settings, background=False)
        try:
            return list(reversed(await runtime.admin.usage.records(limit=100)))
        finally:
            await runtime.close()

    return loop_thread.run(read())


def test_stdio_end_to_end(prepared, loop_thread, tmp_path: Path):
    settings, env, key = prepared
    progress: list[float] = []

    async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
        progress.append(value)

    async def agent(errlog: TextIO) -> dict:
        seen: dict = {}
        # The key as a flag here; the other test gives it in LOWART_API_KEY.
        async with stdio_session(env, errlog, "--api-key", key, cwd=str(tmp_path)) as client:
            seen["server"] = client.server_info.name
            seen["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
            seen["resources"] = sorted(
                str(r.uri) for r in (await client.list_resources()).resources
            )
            seen["chat"] = await client.call_tool("chat", {"model": "fake", "prompt": "hi"})
            seen["streamed"] = await client.call_tool(
                "chat",
                {"model": "mock", "prompt": "a b c d e f g h"},
                progress_callback=on_progress,
            )
            seen["models"] = await client.call_tool("list_models", {})
            seen["unknown"] = await client.call_tool("chat", {"model": "nope", "prompt": "x"})
            seen["broken"] = await client.call_tool("chat", {"model": "broken", "prompt": "x"})
            seen["usage"] = await client.call_tool("usage", {})
            seen["usage_resource"] = await client.read_resource("lowart://usage")
        return seen

    with open(tmp_path / "stderr.log", "w") as errlog:
        seen = asyncio.run(asyncio.wait_for(agent(errlog), 60))
    assert seen["server"] == "lowart"
    assert seen["tools"] == ["chat", "list_models", "usage"]
    assert seen["resources"] == ["lowart://models", "lowart://usage"]
    assert seen["chat"].content[0].text == "echo: hi"
    assert seen["chat"].structured_content["usage"]["total_tokens"] == 18
    assert seen["streamed"].content[0].text.endswith("You said: a b c d e f g h")
    assert len(progress) >= 2 and progress == sorted(progress)
    names = [m["name"] for m in seen["models"].structured_content["models"]]
    assert names == ["broken", "fake", "mock", "mock-embed"]
    assert seen["unknown"].is_error
    assert seen["unknown"].content[0].text == "The model 'nope' does not exist."
    assert seen["broken"].is_error
    assert "answered 500: fake failure 500" in seen["broken"].content[0].text
    usage = seen["usage"].structured_content
    assert usage["key"] == "agent"
    assert usage["totals"]["requests"] == 3 and usage["totals"]["errors"] == 1
    assert '"key":"agent"' in seen["usage_resource"].contents[0].text

    records = usage_records(loop_thread, settings)
    assert [(r["route"], r["status"]) for r in records] == [
        ("fake", "ok"),
        ("mock", "ok"),
        ("broken", "error"),
    ]
    assert {r["interface"] for r in records} == {"mcp"}
    assert {r["key_name"] for r in records} == {"agent"}
    log = (tmp_path / "stderr.log").read_text()
    assert "Traceback" not in log


def test_stdio_refuses_a_bad_key_with_a_clear_message(prepared, tmp_path: Path):
    _settings, env, _key = prepared

    def launch(extra: dict[str, str], *args: str) -> str:
        """Start `lowart mcp` as an agent would; what it told the user on stderr."""

        async def agent(errlog: TextIO) -> None:
            async with stdio_session({**env, **extra}, errlog, *args, cwd=str(tmp_path)) as client:
                await client.list_tools()

        with open(tmp_path / "stderr.log", "w") as errlog:
            with pytest.raises(BaseException):  # noqa: B017 - the SDK reports the closed pipe
                asyncio.run(asyncio.wait_for(agent(errlog), 30))
        return (tmp_path / "stderr.log").read_text()

    log = launch({"LOWART_API_KEY": "sk-wrong"})
    assert "error: Invalid or revoked API key." in log
    assert "LOWART_API_KEY" in log
    assert "Traceback" not in log


def test_stdio_without_a_key_says_how_to_give_one(prepared, monkeypatch, capsys):
    settings, _env, _key = prepared
    monkeypatch.delenv("LOWART_API_KEY", raising=False)
    assert main(["mcp", "--db", settings.database_url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout belongs to the MCP protocol
    assert "error: No API key. Give it in LOWART_API_KEY or with --api-key." in captured.err


def test_sigterm_from_the_agent_host_shuts_down_cleanly(prepared, loop_thread, tmp_path):
    """Raw newline-delimited JSON-RPC, so the test owns the process and can signal it."""
    settings, env, key = prepared
    process = subprocess.Popen(
        [sys.executable, "-m", "lowart", "mcp", "--api-key", key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
        cwd=tmp_path,
    )
    try:
        messages = [
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            },
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "chat", "arguments": {"model": "fake", "prompt": "bye"}},
            },
        ]
        for message in messages:
            process.stdin.write(json.dumps(message).encode() + b"\n")
        process.stdin.flush()
        replies = [json.loads(process.stdout.readline()) for _ in range(2)]
        assert replies[1]["result"]["content"][0]["text"] == "echo: bye"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0  # not killed by the signal: it shut down
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
    records = usage_records(loop_thread, settings)
    assert [(r["route"], r["interface"]) for r in records] == [("fake", "mcp")]

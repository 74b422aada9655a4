"""Agent clients from npm against a live gateway's Responses API: the Vercel AI SDK's
default OpenAI provider and Codex CLI (tests/clients/agents, exact versions, `npm ci`).

Both run offline: they only ever talk to the gateway on loopback (Codex gets a
proxy that leads nowhere for anything else, and its update check, analytics and
feedback are off in its own config).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.npm import npm_ci_once, output_tail
from tests.support.servers import GatewayHandle

PACKAGE = Path(__file__).resolve().parent / "agents"
_OFFLINE = {
    # Anything not bound for the gateway goes to a proxy that is not there: it fails
    # at once instead of reaching the internet.
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "NO_COLOR": "1",
}


@pytest.fixture(scope="session")
def agents() -> Path:
    """Install the pinned npm packages once (node_modules is kept between runs)."""
    npm_ci_once(PACKAGE)
    return PACKAGE


@pytest.fixture
def routes(gateway: GatewayHandle) -> GatewayHandle:
    fake = gateway.extra["fake"]
    gateway.add_model("fake-tools", "openai", base_url=fake.base_url, upstream_model="tools")
    gateway.add_model("fake-shell", "openai", base_url=fake.base_url, upstream_model="codex-shell")
    return gateway


# ------------------------------------------------------------------ Vercel AI SDK


def _vercel(agents: Path, gateway: GatewayHandle, *args: str) -> dict:
    result = subprocess.run(
        ["node", str(agents / "vercel.mjs"), *args],
        env={
            "PATH": os.environ["PATH"],
            "LOWART_BASE_URL": gateway.openai_base_url,
            "LOWART_API_KEY": gateway.admin_key,
            **_OFFLINE,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, output_tail(result)
    return json.loads(result.stdout.splitlines()[-1])


def test_vercel_generate_text(agents: Path, routes: GatewayHandle) -> None:
    result = _vercel(agents, routes, "generate", "mock", "hello vercel")
    assert result["text"] == "This is the lowart mock model. You said: hello vercel"
    assert result["finishReason"] == "stop"
    [record] = routes.wait_for_records(1)
    assert record["interface"] == "responses" and record["stream"] is False
    assert result["usage"]["inputTokens"] == record["prompt_tokens"]
    assert result["usage"]["outputTokens"] == record["completion_tokens"]


def test_vercel_stream_text(agents: Path, routes: GatewayHandle) -> None:
    result = _vercel(agents, routes, "stream", "mock", "hello stream")
    assert result["text"] == "This is the lowart mock model. You said: hello stream"
    assert len(result["parts"]) == len(result["text"].split())  # word by word, as streamed
    [record] = routes.wait_for_records(1)
    assert record["stream"] is True
    assert result["usage"]["outputTokens"] == record["completion_tokens"]


def test_vercel_multi_step_tool_call_with_the_mock(agents: Path, routes: GatewayHandle) -> None:
    result = _vercel(agents, routes, "tools", "mock", 'Call get_weather with {"city": "Oslo"}')
    first, second = result["steps"]
    assert first["toolCalls"] == [{"name": "get_weather", "input": {"city": "Oslo"}}]
    assert first["toolResults"] == ["22 C and sunny in Oslo"]
    assert second["finishReason"] == "stop"
    assert (
        result["text"] == "This is the lowart mock model. The tool returned: 22 C and sunny in Oslo"
    )


def test_vercel_multi_step_tool_call(agents: Path, routes: GatewayHandle) -> None:
    result = _vercel(agents, routes, "tools", "fake-tools", "Weather in Paris?")
    first, second = result["steps"]
    assert first["toolCalls"] == [{"name": "get_weather", "input": {"city": "Paris"}}]
    assert first["toolResults"] == ["22 C and sunny in Paris"]
    assert second["finishReason"] == "stop"
    assert result["text"] == "echo: 22 C and sunny in Paris"
    sent = routes.extra["fake"].requests[-1]["messages"]
    assert sent[-1]["role"] == "tool" and "22 C and sunny in Paris" in sent[-1]["content"]
    assert [r["interface"] for r in routes.wait_for_records(2)] == ["responses"] * 2


# ------------------------------------------------------------------ Codex CLI


def _codex(
    agents: Path, gateway: GatewayHandle, tmp_path: Path, model: str, prompt: str
) -> subprocess.CompletedProcess:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "lowart"\n'
        "check_for_update_on_startup = false\n\n"
        "[model_providers.lowart]\n"
        'name = "lowart"\n'
        f'base_url = "{gateway.openai_base_url}"\n'
        'env_key = "LOWART_API_KEY"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n\n"
        "[analytics]\nenabled = false\n\n"
        "[feedback]\nenabled = false\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    return subprocess.run(
        [
            str(agents / "node_modules" / ".bin" / "codex"),
            "exec",
            "--skip-git-repo-check",
            "--sandbox",
            "danger-full-access",  # the one command is the fake model's harmless echo
            prompt,
        ],
        cwd=work,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "CODEX_HOME": str(home),
            "LOWART_API_KEY": gateway.admin_key,
            **_OFFLINE,
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_codex_exec_with_the_mock_model_runs_a_shell_call(
    agents: Path, routes: GatewayHandle, tmp_path: Path
) -> None:
    """The mock calls the tool the prompt names with the arguments it spells out;
    Codex runs the command and the mock answers from its output."""
    prompt = 'Use exec_command with {"cmd": "echo lowart-$((6 * 7))"}'
    result = _codex(agents, routes, tmp_path, "mock", prompt)
    assert result.returncode == 0, output_tail(result)
    answer = result.stdout.strip().splitlines()[-1]
    assert answer.startswith("This is the lowart mock model. The tool returned:")
    assert "lowart-42" in answer  # computed by the shell Codex ran
    records = routes.wait_for_records(2)
    assert [r["interface"] for r in records] == ["responses", "responses"]
    assert all(r["status"] == "ok" and r["stream"] for r in records)


def test_codex_exec_on_a_translated_openai_route(
    agents: Path, routes: GatewayHandle, tmp_path: Path
) -> None:
    """Codex sends its tools (functions, a namespace, web_search) and streams; an
    OpenAI-compatible upstream gets them as chat tools, calls `exec_command`, and
    gets the command's output back as a tool message."""
    result = _codex(agents, routes, tmp_path, "fake-shell", "run the command")
    assert result.returncode == 0, output_tail(result)
    fake = routes.extra["fake"]
    first, second = fake.requests[-2:]
    names = [tool["function"]["name"] for tool in first["tools"]]
    assert "exec_command" in names
    assert any("__" in name for name in names)  # a namespace's functions, flattened
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "exec_command"
    output = second["messages"][-1]
    assert output["role"] == "tool" and "lowart-42" in output["content"]  # the shell ran it
    records = routes.wait_for_records(2)
    assert [r["interface"] for r in records] == ["responses", "responses"]

"""Claude Code (`@anthropic-ai/claude-code` from npm, pinned in tests/clients/claude_code)
against lowart: `claude -p` with ANTHROPIC_BASE_URL at the gateway and a lowart key, its
default model name (a Claude name lowart has no route for) mapped by the alias
`claude-*` to the mock, including one tool-call round trip: the mock calls Claude
Code's Read tool on a file in a temporary directory, Claude Code runs it, and the mock
answers from the result. Offline: telemetry, error reports, updates and other
non-essential traffic are switched off, and HOME is a fresh temporary directory."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.npm import npm_ci_once, output_tail
from tests.support.servers import GatewayHandle

PACKAGE = Path(__file__).resolve().parent / "claude_code"
OFFLINE = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_BUG_COMMAND": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
}


@pytest.fixture(scope="session")
def claude() -> Path:
    """`npm ci` once (node_modules is kept); skipped only when npm or its registry is missing."""
    binary = PACKAGE / "node_modules" / ".bin" / "claude"
    npm_ci_once(PACKAGE, needs=binary)
    return binary


def _run(claude: Path, gateway: GatewayHandle, home: Path, cwd: Path, *args: str, **env: str):
    result = subprocess.run(
        [str(claude), "-p", *args, "--output-format", "json"],
        cwd=cwd,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": gateway.base_url,
            **OFFLINE,
            **env,
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, output_tail(result)
    return json.loads(result.stdout)


def test_claude_code_with_its_default_model_and_a_tool_round_trip(
    claude: Path, gateway: GatewayHandle, tmp_path: Path
) -> None:
    status, _ = gateway.admin_call(
        "POST", "/admin/aliases", {"pattern": "claude-*", "model": "mock"}
    )
    assert status == 201
    key = gateway.create_key("claude-code", models=["mock"])
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    note = work / "note.txt"
    note.write_text("The secret word is pineapple.\n")

    prompt = "Use Read on " + json.dumps({"file_path": str(note)})
    outcome = _run(claude, gateway, home, work, prompt, ANTHROPIC_API_KEY=key)
    assert outcome["is_error"] is False and outcome["subtype"] == "success"
    assert outcome["num_turns"] == 2  # the tool call, then the answer from its result
    assert outcome["result"].startswith("This is the lowart mock model. The tool returned:")
    assert "The secret word is pineapple." in outcome["result"]
    (model,) = outcome["modelUsage"]  # Claude Code's own default name, served by the alias
    assert model.startswith("claude-")

    # An unknown name of its own choosing (system messages inside `messages`) and a bearer token
    plain = _run(claude, gateway, home, work, "Say hi", "--model", "mock", ANTHROPIC_AUTH_TOKEN=key)
    assert plain["is_error"] is False
    assert plain["result"] == "This is the lowart mock model. You said: Say hi"

    records = [r for r in gateway.usage_records() if r["key_name"] == "claude-code"]
    assert len(records) >= 3 and {r["route"] for r in records} == {"mock"}
    assert {r["interface"] for r in records} == {"anthropic"}
    assert all(r["status"] == "ok" for r in records)

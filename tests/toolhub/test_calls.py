"""ToolHub calls against the real test MCP server over stdio: policies, bounds, audit."""

from __future__ import annotations

import pytest

from lowart.toolruns import ToolBlocked, ToolNotFound
from lowart.types import Principal
from tests.support.servers import GatewayHandle
from tests.toolhub.conftest import SECRET, register, stdio_server, wait_connected

USER = Principal(key_id=7, name="user")


def set_policy(gateway: GatewayHandle, pattern: str, policy: str) -> None:
    async def put() -> None:
        tools = gateway.runtime.admin.tools
        assert tools is not None
        await tools.set_policy(pattern, policy)

    gateway.run(put())


def audit(gateway: GatewayHandle) -> list[dict]:
    async def read() -> list[dict]:
        tools = gateway.runtime.admin.tools
        assert tools is not None
        return await tools.tool_calls()

    return gateway.run(read())


@pytest.fixture
def stdio_gateway(hub_gateway: GatewayHandle) -> GatewayHandle:
    register(hub_gateway, "up", **stdio_server(max_result_bytes=4096, timeout=1.5))
    wait_connected(hub_gateway, "up")
    set_policy(hub_gateway, "up.*", "auto")
    set_policy(hub_gateway, "up.delete_*", "block")
    return hub_gateway


def call(gateway: GatewayHandle, name: str, arguments: dict, decision: str = "auto"):
    access = gateway.runtime.tool_access

    async def run():
        tool = access.resolve(USER, name)
        return await access.call(USER, tool, arguments, decision=decision, request_id="req-1")

    return gateway.run(run())


def test_tools_listed_namespaced_with_blocked_hidden(stdio_gateway: GatewayHandle) -> None:
    tools = {t.exposed: t for t in stdio_gateway.runtime.tool_access.tools_for(USER)}
    assert {"up__echo", "up__add", "up__slow", "up__fail", "up__big"} <= set(tools)
    assert "up__delete_all" not in tools
    assert tools["up__echo"].policy == "auto"
    assert tools["up__echo"].input_schema["properties"]["text"]["type"] == "string"
    with pytest.raises(ToolBlocked):
        stdio_gateway.runtime.tool_access.resolve(USER, "up.delete_all")
    with pytest.raises(ToolNotFound):
        stdio_gateway.runtime.tool_access.resolve(USER, "up__nope")


def test_calls_run_and_are_bounded_and_audited(stdio_gateway: GatewayHandle) -> None:
    ok = call(stdio_gateway, "up__echo", {"text": "hi"})
    assert not ok.is_error and ok.text == "echo: hi" and ok.outcome == "ok"
    assert call(stdio_gateway, "up.add", {"a": 2, "b": 3}).text == "5"
    slow = call(stdio_gateway, "up__slow", {"seconds": 5})
    assert slow.is_error and slow.outcome == "timeout"
    big = call(stdio_gateway, "up__big", {"size": 10_000})
    assert big.is_error and big.outcome == "too_large" and big.result_bytes > 10_000
    assert "x" * 100 not in big.text
    failed = call(stdio_gateway, "up__fail", {"how": "error"})
    assert failed.is_error and failed.outcome == "error"
    assert "failed on purpose" in failed.text and SECRET not in failed.text
    assert SECRET not in str(failed.content)
    # The session survives a timeout: the next call works.
    assert call(stdio_gateway, "up__echo", {"text": "again"}).text == "echo: again"
    rows = audit(stdio_gateway)
    outcomes = [(r["tool"], r["decision"], r["outcome"]) for r in reversed(rows)]
    assert outcomes == [
        ("echo", "auto", "ok"),
        ("add", "auto", "ok"),
        ("slow", "auto", "timeout"),
        ("big", "auto", "too_large"),
        ("fail", "auto", "error"),
        ("echo", "auto", "ok"),
    ]
    assert all(r["key_id"] == 7 and r["request_id"] == "req-1" for r in rows)
    assert all(SECRET not in (r["error"] or "") for r in rows)


def test_block_never_runs_even_if_called_directly(stdio_gateway: GatewayHandle) -> None:
    access = stdio_gateway.runtime.tool_access
    tool = next(t for t in access.tools_for(USER) if t.name == "echo")
    set_policy(stdio_gateway, "up.echo", "block")
    with pytest.raises(ToolBlocked):
        stdio_gateway.run(access.call(USER, tool, {"text": "x"}, decision="auto"))
    rows = audit(stdio_gateway)
    assert (rows[0]["tool"], rows[0]["decision"], rows[0]["outcome"]) == (
        "echo",
        "blocked",
        "blocked",
    )

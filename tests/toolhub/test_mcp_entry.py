"""lowart's /mcp as the one entry point to upstream tools, driven by the `mcp` SDK client:
aggregated listing, per-key visibility, block, confirm by elicitation, auto, audit."""

from __future__ import annotations

import asyncio

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from tests.support.mcp_client import http_client
from tests.support.servers import GatewayHandle
from tests.toolhub.conftest import register, stdio_server, wait_connected


def admin_tools(gateway: GatewayHandle):
    tools = gateway.runtime.admin.tools
    assert tools is not None
    return tools


@pytest.fixture
def entry(hub_gateway: GatewayHandle) -> GatewayHandle:
    register(hub_gateway, "up", **stdio_server())
    wait_connected(hub_gateway, "up")
    tools = admin_tools(hub_gateway)
    hub_gateway.run(tools.set_policy("up.*", "auto"))
    hub_gateway.run(tools.set_policy("up.delete_all", "block"))
    hub_gateway.run(tools.set_policy("up.add", "confirm"))
    return hub_gateway


def url(gateway: GatewayHandle) -> str:
    return gateway.base_url + "/mcp"


def calls(gateway: GatewayHandle) -> list[tuple[str, str, str]]:
    rows = gateway.run(admin_tools(gateway).tool_calls())
    return [(r["tool"], r["decision"], r["outcome"]) for r in reversed(rows)]


async def test_listing_aggregates_and_hides_blocked(entry: GatewayHandle) -> None:
    async with http_client(url(entry), entry.admin_key) as client:
        caps = client.server_capabilities
        assert caps.tools is not None and caps.tools.list_changed
        names = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"chat", "list_models", "usage"} <= set(names)  # lowart's own
    assert {"up__echo", "up__add", "up__slow", "up__fail"} <= set(names)
    assert "up__delete_all" not in names
    assert names["up__echo"].input_schema["properties"]["text"]["type"] == "string"
    assert names["up__echo"].description == "Echo the text back."


async def test_auto_runs_and_block_is_refused_by_name(entry: GatewayHandle) -> None:
    async with http_client(url(entry), entry.admin_key) as client:
        result = await client.call_tool("up__echo", {"text": "through lowart"})
        assert not result.is_error
        assert result.content[0].text == "echo: through lowart"
        with pytest.raises(MCPError) as refused:
            await client.call_tool("up__delete_all", {})
        assert "blocked" in refused.value.error.message
        failed = await client.call_tool("up__fail", {"how": "error"})
        assert failed.is_error and "failed on purpose" in failed.content[0].text
    assert calls(entry) == [
        ("echo", "auto", "ok"),
        ("delete_all", "blocked", "blocked"),
        ("fail", "auto", "error"),
    ]


async def test_per_key_visibility(entry: GatewayHandle) -> None:
    key, _ = entry.run(entry.runtime.admin.create_key("echo-only", tools=["up.echo*"]))
    entry.run(entry.runtime.reload())
    async with http_client(url(entry), key) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "up__echo" in names
        assert not {"up__add", "up__slow", "up__fail"} & names
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("up__slow", {"seconds": 0})
        assert "Unknown tool" in unknown.value.error.message


async def test_confirm_asks_the_client_by_elicitation(entry: GatewayHandle) -> None:
    asked: list[types.ElicitRequestParams] = []
    answer = {"approve": True}

    async def elicit(_context, params):
        asked.append(params)
        return types.ElicitResult(action="accept", content=answer)

    async with http_client(url(entry), entry.admin_key, elicitation_callback=elicit) as client:
        approved = await client.call_tool("up__add", {"a": 2, "b": 40})
        assert not approved.is_error and approved.content[0].text == "42"
        answer["approve"] = False
        declined = await client.call_tool("up__add", {"a": 1, "b": 1})
        assert declined.is_error and "approval was not given" in declined.content[0].text
    assert len(asked) == 2
    assert "up.add" in asked[0].message and '"b":40' in asked[0].message
    assert asked[0].requested_schema["required"] == ["approve"]
    # A client that cannot be asked: never runs.
    async with http_client(url(entry), entry.admin_key) as client:
        unasked = await client.call_tool("up__add", {"a": 1, "b": 2})
        assert unasked.is_error and "approval was not given" in unasked.content[0].text
    assert calls(entry) == [
        ("add", "approved", "ok"),
        ("add", "denied", "denied"),
        ("add", "denied", "denied"),
    ]


async def test_list_changed_reaches_the_client(entry: GatewayHandle) -> None:
    changed = asyncio.Event()

    async def on_message(message) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with http_client(url(entry), entry.admin_key, message_handler=on_message) as client:
        await client.list_tools()
        await client.call_tool("up__grow", {})  # the upstream adds `extra` and says so
        await asyncio.wait_for(changed.wait(), 10)
        names = {tool.name for tool in (await client.list_tools(cache_mode="refresh")).tools}
    assert "up__extra" in names

"""`@modelcontextprotocol/server-everything` (npm, pinned) as a stdio upstream behind
lowart's /mcp: its tools listed as `every__*`, called through lowart, images passed
through, and the environment it was given never echoed back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.mcp_client import http_client
from tests.support.npm import npm_ci_once
from tests.support.servers import GatewayHandle
from tests.toolhub.conftest import SECRET, register, wait_connected

PACKAGE = Path(__file__).resolve().parent / "everything"
SERVER = PACKAGE / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist"


@pytest.fixture
def everything(hub_gateway: GatewayHandle) -> GatewayHandle:
    npm_ci_once(PACKAGE, needs=SERVER / "index.js", timeout=300)
    node = shutil.which("node")
    assert node is not None
    register(
        hub_gateway,
        "every",
        command=node,
        args=[str(SERVER / "index.js"), "stdio"],
        env={"EVERY_TOKEN": SECRET},
        timeout=10,
    )
    wait_connected(hub_gateway, "every", timeout=30)
    hub_gateway.run(hub_gateway.runtime.admin.tools.set_policy("every.*", "auto"))
    return hub_gateway


async def test_everything_through_lowart(everything: GatewayHandle) -> None:
    async with http_client(everything.base_url + "/mcp", everything.admin_key) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"every__echo", "every__get-sum", "every__get-tiny-image"} <= names
        echoed = await client.call_tool("every__echo", {"message": "hello"})
        assert echoed.content[0].text == "Echo: hello"
        summed = await client.call_tool("every__get-sum", {"a": 2, "b": 40})
        assert "42" in summed.content[0].text
        image = await client.call_tool("every__get-tiny-image", {})
        assert any(block.type == "image" and block.data for block in image.content)
        env = await client.call_tool("every__get-env", {})
        text = env.content[0].text
        assert "EVERY_TOKEN" in text and SECRET not in text
    rows = everything.run(everything.runtime.admin.tools.tool_calls(server="every"))
    assert [r["outcome"] for r in rows] == ["ok"] * 4

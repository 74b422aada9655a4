"""MCP sessions are bounded per key and end when idle, so one key cannot lock out the rest."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from tests.frontends.mcp.test_http import ACCEPT, INIT
from tests.support.servers import start_gateway, stop_gateway, test_settings


@pytest.fixture
def small_gateway(loop_thread, tmp_path):
    settings = test_settings(tmp_path, mcp_max_sessions_per_key=2, mcp_session_idle_seconds=1.0)
    handle = start_gateway(loop_thread, settings)
    yield handle
    stop_gateway(handle)


async def _open(http: httpx2.AsyncClient, url: str, key: str) -> httpx2.Response:
    return await http.post(url, json=INIT, headers={**ACCEPT, "Authorization": f"Bearer {key}"})


async def test_a_key_may_hold_only_so_many_sessions_and_others_are_unaffected(small_gateway):
    url = small_gateway.base_url + "/mcp"
    admin = small_gateway.admin_key
    other = small_gateway.create_key("other")
    async with httpx2.AsyncClient(timeout=5) as http:
        opened = [await _open(http, url, admin) for _ in range(2)]
        assert [r.status_code for r in opened] == [200, 200]
        refused = await _open(http, url, admin)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_sessions"
        assert "2 open MCP sessions" in refused.json()["error"]["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await _open(http, url, other)).status_code == 200  # another key is not locked out

        # ending one session frees its place at once
        session = opened[0].headers["mcp-session-id"]
        ended = await http.delete(
            url,
            headers={
                **ACCEPT,
                "Authorization": f"Bearer {admin}",
                "mcp-session-id": session,
                "mcp-protocol-version": "2025-11-25",
            },
        )
        assert ended.status_code in (200, 204)
        assert (await _open(http, url, admin)).status_code == 200


async def test_the_sdk_client_sees_the_cap_as_an_error_it_can_report(small_gateway):
    from contextlib import AsyncExitStack

    from tests.support.mcp_client import http_client

    url = small_gateway.base_url + "/mcp"
    async with AsyncExitStack() as held:
        for _ in range(2):  # two live SDK sessions of one key ...
            client = await held.enter_async_context(http_client(url, small_gateway.admin_key))
            await client.list_tools()
        with pytest.raises(BaseException) as refused:  # ... and a third is refused
            async with http_client(url, small_gateway.admin_key) as third:
                await third.list_tools()
        assert "MCPError" in repr(refused.value)  # the SDK reports the 429 as an MCPError
        other = small_gateway.create_key("other")
        async with http_client(url, other) as fine:  # another key is unaffected
            assert (await fine.list_tools()).tools


async def test_idle_sessions_end_and_free_their_place(small_gateway):
    url = small_gateway.base_url + "/mcp"
    admin = small_gateway.admin_key
    async with httpx2.AsyncClient(timeout=5) as http:
        first = [await _open(http, url, admin) for _ in range(2)]
        assert (await _open(http, url, admin)).status_code == 429
        await asyncio.sleep(2.5)  # past the idle timeout (1 s)
        session = first[0].headers["mcp-session-id"]
        gone = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers={
                **ACCEPT,
                "Authorization": f"Bearer {admin}",
                "mcp-session-id": session,
                "mcp-protocol-version": "2025-11-25",
            },
        )
        assert gone.status_code == 404  # the idle session ended
        assert (await _open(http, url, admin)).status_code == 200

"""MCP over streamable HTTP at /mcp, driven by the official `mcp` SDK client."""

from __future__ import annotations

import asyncio
import time

import httpx2
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from tests.support.mcp_client import http_client
from tests.support.servers import start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_for

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw-test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def mcp_url(gateway) -> str:
    return gateway.base_url + "/mcp"


async def records(gateway, count: int) -> list[dict]:
    return await asyncio.to_thread(gateway.wait_for_records, count)


async def test_initialize_lists_tools_and_resources(gateway):
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        assert client.server_info.name == "lowart"
        assert client.server_capabilities.tools is not None
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        # generate_image is listed only for a key that may use an image model (none here).
        assert set(tools) == {"chat", "list_models", "usage"}
        chat = tools["chat"]
        assert chat.input_schema["required"] == ["model"]
        assert {"model", "prompt", "messages", "system", "temperature", "max_tokens"} <= set(
            chat.input_schema["properties"]
        )
        assert "list_models" in chat.description
        assert chat.output_schema["required"] == ["model", "text", "usage"]
        resources = (await client.list_resources()).resources
        assert {str(r.uri) for r in resources} == {"lowart://models", "lowart://usage"}
        assert all(r.mime_type == "application/json" for r in resources)


async def test_chat_against_fake_upstream_records_mcp_usage(gateway):
    fake = gateway.extra["fake"]
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        result = await client.call_tool(
            "chat",
            {"model": "fake", "prompt": "hello", "system": "be brief", "temperature": 0.3},
        )
    assert not result.is_error
    assert result.content[0].text == "echo: hello"
    assert result.structured_content == {
        "model": "fake",
        "text": "echo: hello",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }
    sent = fake.requests[-1]
    assert sent["model"] == "echo"
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]
    assert sent["temperature"] == 0.3
    (record,) = await records(gateway, 1)
    assert record["interface"] == "mcp"
    assert record["route"] == "fake"
    assert record["status"] == "ok"
    assert record["key_name"] == "test-admin"
    assert record["total_tokens"] == 18
    assert (record["prompt_tokens"], record["completion_tokens"]) == (11, 7)


async def test_chat_with_messages_and_the_mock_model(gateway):
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        result = await client.call_tool(
            "chat",
            {
                "model": "mock",
                "messages": [
                    {"role": "user", "content": "first"},
                    {"role": "assistant", "content": "ok"},
                    {"role": "user", "content": "second"},
                ],
                "max_tokens": 3,
            },
        )
    assert not result.is_error
    assert result.structured_content["finish_reason"] == "length"
    assert result.structured_content["usage"]["completion_tokens"] > 0


async def test_progress_notifications_while_the_answer_streams(gateway):
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    prompt = "one two three four five six seven eight nine ten"
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        result = await client.call_tool(
            "chat", {"model": "mock", "prompt": prompt}, progress_callback=on_progress
        )
    assert not result.is_error
    assert result.content[0].text == f"This is the lowart mock model. You said: {prompt}"
    assert len(seen) >= 3
    values = [p for p, _, _ in seen]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert seen[-1][0] == seen[-1][1]  # the last one says: done
    (record,) = await records(gateway, 1)
    assert record["interface"] == "mcp" and record["stream"]
    assert record["completion_tokens"] == result.structured_content["usage"]["completion_tokens"]


async def test_list_models_shows_what_the_key_may_use(gateway):
    key = gateway.create_key("only-fake", models=["fake"])
    async with http_client(mcp_url(gateway), key) as client:
        result = await client.call_tool("list_models", {})
        assert result.structured_content == {
            "models": [{"name": "fake", "vendor": "openai", "kind": "chat"}]
        }
        assert "fake (chat, vendor openai)" in result.content[0].text
        resource = await client.read_resource("lowart://models")
        assert (
            resource.contents[0].text
            == '{"models":[{"name":"fake","vendor":"openai","kind":"chat"}]}'
        )
        denied = await client.call_tool("chat", {"model": "mock", "prompt": "hi"})
    assert denied.is_error
    assert denied.content[0].text == "This key may not use the model 'mock'."


async def test_usage_shows_only_the_calling_keys_usage(gateway):
    mine = gateway.create_key("mine")
    other = gateway.create_key("other")
    async with http_client(mcp_url(gateway), other) as client:
        await client.call_tool("chat", {"model": "mock", "prompt": "not yours"})
    async with http_client(mcp_url(gateway), mine) as client:
        await client.call_tool("chat", {"model": "fake", "prompt": "a"})
        await client.call_tool("chat", {"model": "fake", "prompt": "b"})
        result = await client.call_tool("usage", {})
        resource = await client.read_resource("lowart://usage")
    assert not result.is_error
    usage = result.structured_content
    assert usage["key"] == "mine"
    assert usage["totals"]["requests"] == 2
    assert usage["totals"]["total_tokens"] == 36
    assert [m["model"] for m in usage["by_model"]] == ["fake"]
    assert "2 requests (0 failed), 36 tokens" in result.content[0].text
    assert '"key":"mine"' in resource.contents[0].text


async def test_unknown_model_is_a_tool_error_with_a_clear_message(gateway):
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        result = await client.call_tool("chat", {"model": "no-such-model", "prompt": "hi"})
        bad_args = await client.call_tool("chat", {"model": "mock"})
        typo = await client.call_tool("chat", {"model": "mock", "prompt": "x", "temprature": 1})
    assert result.is_error
    assert result.content[0].text == "The model 'no-such-model' does not exist."
    assert result.structured_content["error"]["code"] == "model_not_found"
    assert bad_args.is_error and "'prompt'" in bad_args.content[0].text
    assert typo.is_error and "temprature" in typo.content[0].text
    for text in (result.content[0].text, bad_args.content[0].text, typo.content[0].text):
        assert "Traceback" not in text


async def test_unknown_tool_and_resource_are_protocol_errors(gateway):
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        with pytest.raises(MCPError) as tool:
            await client.call_tool("generate_image", {"prompt": "a cat"})
        with pytest.raises(MCPError) as resource:
            await client.read_resource("lowart://nothing")
    assert tool.value.code == types.INVALID_PARAMS
    assert "Unknown tool 'generate_image'" in tool.value.message
    assert resource.value.code == -32002


async def test_upstream_failure_is_a_tool_error_and_recorded(gateway):
    fake = gateway.extra["fake"]
    gateway.add_model("broken", "openai", base_url=fake.base_url, upstream_model="fail-500")
    async with http_client(mcp_url(gateway), gateway.admin_key) as client:
        result = await client.call_tool("chat", {"model": "broken", "prompt": "hi"})
        streamed = await client.call_tool(
            "chat", {"model": "broken", "prompt": "hi"}, progress_callback=_ignore_progress
        )
    for failed in (result, streamed):
        assert failed.is_error
        assert (
            failed.content[0].text == "Upstream for model 'broken' answered 500: fake failure 500"
        )
    first, second = await records(gateway, 2)
    for record in (first, second):
        assert (record["interface"], record["route"], record["status"]) == (
            "mcp",
            "broken",
            "error",
        )
        assert record["http_status"] == 502


async def test_limits_and_revocation_apply_as_on_the_http_api(gateway):
    key = gateway.create_key("limited", rpm=1)
    async with http_client(mcp_url(gateway), key) as client:
        first = await client.call_tool("chat", {"model": "mock", "prompt": "one"})
        second = await client.call_tool("chat", {"model": "mock", "prompt": "two"})
        assert not first.is_error
        assert second.is_error
        assert second.content[0].text == (
            "Rate limit of 1 requests per minute reached for key 'limited'."
        )
        assert second.structured_content["error"]["status"] == 429

        async def revoke() -> None:
            await gateway.runtime.admin.revoke_key("limited")
            await gateway.runtime.reload()

        gateway.run(revoke())
        with pytest.raises(MCPError):  # the session's next request is refused with 401
            await client.list_tools()


# legacy: the client sends notifications/cancelled; 2026 wire: it closes the response stream.
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_cancelled_call_is_recorded_once_as_cancelled(gateway, mode):
    fake = gateway.extra["fake"]
    gateway.add_model("slow", "openai", base_url=fake.base_url, upstream_model="slow")
    async with http_client(mcp_url(gateway), gateway.admin_key, mode=mode) as client:
        with pytest.raises(MCPError):
            await client.call_tool(
                "chat", {"model": "slow", "prompt": "hi"}, read_timeout_seconds=0.5
            )
        assert (await client.call_tool("list_models", {})).structured_content  # session lives on
    (record,) = await records(gateway, 1)
    assert (record["route"], record["status"], record["interface"]) == ("slow", "cancelled", "mcp")


async def _ignore_progress(_progress: float, _total: float | None, _message: str | None) -> None:
    return None


async def test_missing_or_bad_key_gets_401_before_the_mcp_layer(gateway):
    async with httpx2.AsyncClient(timeout=5) as http:
        missing = await http.post(mcp_url(gateway), json=INIT, headers=ACCEPT)
        bad = await http.post(
            mcp_url(gateway), json=INIT, headers={**ACCEPT, "Authorization": "Bearer sk-nope"}
        )
    for response in (missing, bad):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert "Missing API key" in missing.json()["error"]["message"]
    assert bad.json()["error"]["message"] == "Invalid or revoked API key."
    with pytest.raises(BaseException) as refused:  # the SDK surfaces the 401 as an error
        async with http_client(mcp_url(gateway), "sk-nope") as client:
            await client.list_tools()
    assert "MCPError" in repr(refused.value)
    assert gateway.usage_records() == []


async def _initialize(http: httpx2.AsyncClient, url: str, key: str) -> str:
    response = await http.post(url, json=INIT, headers={**ACCEPT, "Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.headers["mcp-session-id"]


async def test_sessions_are_bound_to_the_key_that_opened_them(gateway):
    url = mcp_url(gateway)
    other = gateway.create_key("other")
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    async with httpx2.AsyncClient(timeout=5) as http:
        session = await _initialize(http, url, gateway.admin_key)
        base = {**ACCEPT, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
        await http.post(
            url,
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            headers={**base, "Authorization": f"Bearer {gateway.admin_key}"},
        )
        stolen = await http.post(
            url, json=listing, headers={**base, "Authorization": f"Bearer {other}"}
        )
        owned = await http.post(
            url, json=listing, headers={**base, "Authorization": f"Bearer {gateway.admin_key}"}
        )
        ended = await http.delete(
            url, headers={**base, "Authorization": f"Bearer {gateway.admin_key}"}
        )
        after = await http.post(
            url, json=listing, headers={**base, "Authorization": f"Bearer {gateway.admin_key}"}
        )
    assert stolen.status_code == 404
    assert owned.status_code == 200 and '"name":"chat"' in owned.text
    assert owned.headers["x-request-id"].startswith("req_")  # as on every lowart response
    assert ended.status_code == 200
    assert after.status_code == 404


async def test_foreign_browser_origins_are_refused(gateway):
    url = mcp_url(gateway)
    auth = {"Authorization": f"Bearer {gateway.admin_key}"}
    async with httpx2.AsyncClient(timeout=5) as http:
        foreign = await http.post(
            url, json=INIT, headers={**ACCEPT, **auth, "Origin": "http://evil.example"}
        )
        local = await http.post(
            url, json=INIT, headers={**ACCEPT, **auth, "Origin": "http://localhost:5173"}
        )
    assert foreign.status_code == 403
    assert foreign.json()["error"]["code"] == "origin_not_allowed"
    assert local.status_code == 200


def test_configured_origins_are_allowed(loop_thread, tmp_path):
    settings = settings_for(tmp_path, mcp_allowed_origins=("https://agent.example",))
    handle = start_gateway(loop_thread, settings)
    try:
        headers = {**ACCEPT, "Authorization": f"Bearer {handle.admin_key}"}
        with httpx2.Client(timeout=5) as http:
            allowed = http.post(
                handle.base_url + "/mcp",
                json=INIT,
                headers={**headers, "Origin": "https://agent.example"},
            )
            other = http.post(
                handle.base_url + "/mcp",
                json=INIT,
                headers={**headers, "Origin": "https://other.example"},
            )
        assert allowed.status_code == 200
        assert other.status_code == 403
    finally:
        stop_gateway(handle)


def _sse_events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            if name in ("id", "data", "event"):
                fields[name] = value.strip()
        if fields:
            events.append(fields)
    return events


async def test_a_dropped_stream_can_be_resumed_from_its_last_event_id(gateway):
    url = mcp_url(gateway)
    auth = {"Authorization": f"Bearer {gateway.admin_key}"}
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "chat", "arguments": {"model": "fake", "prompt": "resume me"}},
    }
    async with httpx2.AsyncClient(timeout=5) as http:
        session = await _initialize(http, url, gateway.admin_key)
        base = {**ACCEPT, **auth, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
        await http.post(
            url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=base
        )
        answered = _sse_events((await http.post(url, json=call, headers=base)).text)
        priming = answered[0]["id"]  # the event a client that lost the stream resumes after
        assert any('"echo: resume me"' in e.get("data", "") for e in answered)
        async with http.stream("GET", url, headers={**base, "Last-Event-ID": priming}) as replay:
            assert replay.status_code == 200
            replayed = await _first_data_event(replay)
        # Another session of the same key cannot read this session's events.
        intruder = await _initialize(http, url, gateway.admin_key)
        foreign = {**base, "mcp-session-id": intruder, "Last-Event-ID": priming}
        async with http.stream("GET", url, headers=foreign) as stream:
            assert stream.status_code == 200
            leaked = await _first_data_event(stream)
    assert replayed is not None and '"echo: resume me"' in replayed
    assert leaked is None


async def _first_data_event(stream: httpx2.Response) -> str | None:
    """The first non-empty `data:` line of an SSE stream, or None if it stays silent."""
    try:
        async with asyncio.timeout(1):
            async for line in stream.aiter_lines():
                if line.startswith("data:") and line[5:].strip():
                    return line
    except TimeoutError:
        return None
    return None


async def test_the_2026_single_exchange_wire_works_too(gateway):
    async with http_client(mcp_url(gateway), gateway.admin_key, mode="auto") as client:
        assert client.protocol_version.startswith("2026")
        result = await client.call_tool("chat", {"model": "fake", "prompt": "modern"})
        models = await client.call_tool("list_models", {})
        progress: list[float] = []

        async def on_progress(value: float, _total: float | None, _message: str | None) -> None:
            progress.append(value)

        streamed = await client.call_tool(
            "chat", {"model": "mock", "prompt": "a b c d e f"}, progress_callback=on_progress
        )
    assert result.content[0].text == "echo: modern"
    assert not streamed.is_error and len(progress) >= 2
    names = {m["name"] for m in models.structured_content["models"]}
    assert names == {"fake", "mock", "mock-embed"}
    plain, with_progress = await records(gateway, 2)
    assert (plain["interface"], plain["stream"]) == ("mcp", False)
    assert (with_progress["interface"], with_progress["stream"]) == ("mcp", True)


def test_mcp_over_the_unix_socket(loop_thread, tmp_path, fake_openai):
    sock = str(tmp_path / "lowart.sock")
    handle = start_gateway(loop_thread, settings_for(tmp_path, port=None, uds=sock))
    try:

        async def talk() -> str:
            async with http_client("http://lowart/mcp", handle.admin_key, uds=sock) as client:
                result = await client.call_tool("chat", {"model": "mock", "prompt": "via uds"})
            return result.content[0].text

        assert asyncio.run(talk()) == "This is the lowart mock model. You said: via uds"
    finally:
        stop_gateway(handle)


def test_mcp_can_be_switched_off(loop_thread, tmp_path):
    handle = start_gateway(loop_thread, settings_for(tmp_path, mcp_enabled=False))
    try:
        with httpx2.Client(timeout=5) as http:
            response = http.post(
                handle.base_url + "/mcp",
                json=INIT,
                headers={**ACCEPT, "Authorization": f"Bearer {handle.admin_key}"},
            )
        assert response.status_code == 404
    finally:
        stop_gateway(handle)


def test_shutdown_ends_open_sessions_promptly(loop_thread, tmp_path):
    handle = start_gateway(loop_thread, settings_for(tmp_path, shutdown_grace=10.0))
    stopped = {}

    async def hold_a_session_open() -> None:
        async with http_client(handle.base_url + "/mcp", handle.admin_key) as client:
            await client.list_tools()
            await asyncio.sleep(0.2)  # let the client open its standalone GET stream
            started = time.monotonic()
            await asyncio.to_thread(stop_gateway, handle)
            stopped["seconds"] = time.monotonic() - started

    try:
        asyncio.run(hold_a_session_open())
    except BaseException:  # the client may complain that its server went away
        pass
    assert stopped["seconds"] < 3  # not the 10 s grace: open GET streams are ended first


def test_shutdown_lets_an_inflight_call_finish(loop_thread, tmp_path):
    handle = start_gateway(loop_thread, settings_for(tmp_path, shutdown_grace=10.0))
    handle.add_model("mock-slow", "mock", options={"delay": 0.05})
    outcome = {}

    async def call_while_stopping() -> None:
        started = asyncio.Event()

        async def on_progress(_p: float, _t: float | None, _m: str | None) -> None:
            started.set()

        async with http_client(handle.base_url + "/mcp", handle.admin_key) as client:
            await client.list_tools()  # the client checks results against the output schema
            call = asyncio.create_task(
                client.call_tool(
                    "chat",
                    {"model": "mock-slow", "prompt": "a b c d e f g h i j"},
                    progress_callback=on_progress,
                )
            )
            await asyncio.wait_for(started.wait(), 5)
            stopping = asyncio.create_task(asyncio.to_thread(stop_gateway, handle))
            outcome["result"] = await call
            await stopping

    try:
        asyncio.run(call_while_stopping())
    except BaseException:  # closing the session after the server is gone may complain
        pass
    assert not outcome["result"].is_error
    assert outcome["result"].content[0].text.endswith("You said: a b c d e f g h i j")

"""MCP tools in chat completions, driven with the openai SDK against a real gateway, the
mock model (it calls the tool the user names) and a real upstream MCP server."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.support.servers import stop_gateway
from tests.support.waiting import wait_until
from tests.toolhub.conftest import register, wait_connected
from tests.toolruns.conftest import ECHO, ToolGateway, open_tool_gateway

MCP = {"type": "mcp", "server_label": "demo"}


def ask(tools: ToolGateway, text: str = ECHO, key: str | None = None, **options):
    return tools.client(key).chat.completions.create(
        model="mock",
        messages=[{"role": "user", "content": text}],
        tools=[MCP],  # type: ignore[list-item]
        **options,
    )


def records_of(tools: ToolGateway, count: int) -> list[dict]:
    return [r for r in tools.handle.wait_for_records(count) if r["key_name"] == "tool-user"]


def test_auto_runs_the_tool_and_the_answer_quotes_it(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    reply = ask(tools)
    assert reply.choices[0].finish_reason == "stop"
    assert "The tool returned: echo: hello tools" in reply.choices[0].message.content
    [run] = reply.model_extra["lowart_tools"]
    assert (run["server"], run["tool"], run["status"]) == ("demo", "echo", "completed")
    # Each step is a normal call: two usage rows of this key, the reply sums them.
    rows = records_of(tools, 2)
    assert len(rows) == 2 and len({r["request_id"] for r in rows}) == 1
    assert reply.usage.prompt_tokens == sum(r["prompt_tokens"] for r in rows)
    assert reply.usage.completion_tokens == sum(r["completion_tokens"] for r in rows)
    [call] = [c for c in tools.audit() if c["tool"] == "echo"]
    assert call["decision"] == "auto" and call["outcome"] == "ok"


def test_auto_streams_text_tool_markers_and_summed_usage(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    chunks = list(ask(tools, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "The tool returned: echo: hello tools" in text
    markers = [c.model_extra["lowart_tool"] for c in chunks if c.model_extra.get("lowart_tool")]
    assert [m["status"] for m in markers] == ["in_progress", "completed"]
    assert markers[1]["tool"] == "echo" and markers[1]["duration_ms"] >= 0
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    rows = records_of(tools, 2)
    assert usage.total_tokens == sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows)


def test_block_is_never_offered_nor_run(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    tools.policy("demo.delete_all", "block")
    reply = ask(tools, "Now call demo__delete_all please")
    assert "deleted everything" not in reply.choices[0].message.content
    assert reply.model_extra["lowart_tools"] == []
    assert not [c for c in tools.audit() if c["tool"] == "delete_all"]


def pause(tools: ToolGateway, **options):
    tools.policy("demo.*", "confirm")
    reply = ask(tools, **options)
    pending = reply.model_extra["lowart_pending"]
    assert reply.choices[0].finish_reason == "tool_calls"
    [call] = pending["calls"]
    assert (call["server"], call["tool"]) == ("demo", "echo")
    assert reply.choices[0].message.tool_calls[0].id == call["id"]
    assert pending["expires_at"] > time.time() - 2
    return pending


def test_confirm_pauses_then_approval_runs_it(tools: ToolGateway):
    pending = pause(tools)
    assert not [c for c in tools.audit() if c["tool"] == "echo"]  # nothing ran yet
    answer = tools.confirm(
        {"session_id": pending["session_id"], "approve": [pending["calls"][0]["id"]]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "The tool returned: echo: hello tools" in body["choices"][0]["message"]["content"]
    assert body["lowart_tools"][0]["status"] == "completed"
    [call] = [c for c in tools.audit() if c["tool"] == "echo"]
    assert call["decision"] == "approved"
    # A session continues once.
    again = tools.confirm({"session_id": pending["session_id"], "approve": []})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "tool_session_continued"


def test_confirm_then_deny_never_runs(tools: ToolGateway):
    pending = pause(tools)
    answer = tools.confirm(
        {"session_id": pending["session_id"], "deny": [pending["calls"][0]["id"]]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "denied" in body["choices"][0]["message"]["content"]
    assert body["lowart_tools"][0]["status"] == "denied"
    [call] = [c for c in tools.audit() if c["tool"] == "echo"]
    assert call["decision"] == "denied"


def test_a_paused_stream_ends_with_the_pending_object_then_confirm_streams(tools: ToolGateway):
    tools.policy("demo.*", "confirm")
    chunks = list(ask(tools, stream=True))
    last = [c for c in chunks if c.choices][-1]
    assert last.choices[0].finish_reason == "tool_calls"
    pending = last.model_extra["lowart_pending"]
    with httpx.stream(
        "POST",
        tools.handle.base_url + "/v1/tools/confirm",
        json={
            "session_id": pending["session_id"],
            "approve": [pending["calls"][0]["id"]],
            "stream": True,
        },
        headers={"Authorization": f"Bearer {tools.key}"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        frames = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert "The tool returned: echo: hello tools" in text
    markers = [c["lowart_tool"]["status"] for c in chunks if "lowart_tool" in c]
    assert markers == ["in_progress", "completed"]


def test_approval_after_a_gateway_restart(tools: ToolGateway, loop_thread, tmp_path):
    pending = pause(tools)
    stop_gateway(tools.handle)
    handle = open_tool_gateway(loop_thread, tmp_path, admin_name="second-admin")
    try:
        wait_connected(handle, "demo")
        tools.handle = handle
        answer = tools.confirm(
            {"session_id": pending["session_id"], "approve": [pending["calls"][0]["id"]]}
        )
        assert answer.status_code == 200, answer.text
        assert "echo: hello tools" in answer.json()["choices"][0]["message"]["content"]
    finally:
        tools.handle = handle  # the fixture stops this one


def test_another_key_cannot_continue_a_session(tools: ToolGateway):
    pending = pause(tools)
    other = tools.handle.create_key("someone-else")
    answer = tools.confirm({"session_id": pending["session_id"], "approve": []}, key=other)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "tool_session_not_found"
    # ... and the owner still can.
    assert tools.confirm({"session_id": pending["session_id"], "deny": []}).status_code == 200


@pytest.mark.parametrize("tool_settings", [{"tool_approval_ttl": 0.3}])
def test_an_expired_session_is_gone_and_audited(tools: ToolGateway):
    pending = pause(tools)
    time.sleep(0.5)
    answer = tools.confirm({"session_id": pending["session_id"], "approve": []})
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "tool_session_expired"
    [call] = [c for c in tools.audit() if c["tool"] == "echo"]
    assert call["decision"] == "expired"


@pytest.mark.parametrize("tool_settings", [{"tool_max_steps": 1}])
def test_the_step_bound_ends_the_loop_with_a_marker(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    reply = ask(tools)
    assert reply.choices[0].finish_reason == "length"
    assert reply.model_extra["lowart_tool_stop"] == "max_steps"
    assert len(records_of(tools, 1)) == 1


def test_requests_naming_servers_they_may_not_use_are_refused_before_any_model_call(
    tools: ToolGateway,
):
    client = tools.client()
    cases = [
        ({**MCP, "server_url": "http://127.0.0.1:1/mcp"}, 400, "mcp_server_url_mismatch"),
        ({"type": "mcp", "server_label": "nowhere"}, 404, "tool_not_found"),
        ({**MCP, "headers": {"Authorization": "Bearer x"}}, 400, "invalid_request"),
        ({**MCP, "allowed_tools": ["no_such_tool"]}, 404, "tool_not_found"),
    ]
    for tool, status, code in cases:
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(
                model="mock", messages=[{"role": "user", "content": ECHO}], tools=[tool]
            )
        assert caught.value.status_code == status, tool
        assert caught.value.body["code"] == code, tool
    assert records_of(tools, 0) == []


def test_a_client_function_tool_ends_the_loop_and_comes_back_to_the_client(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    reply = tools.client().chat.completions.create(
        model="mock",
        messages=[{"role": "user", "content": "Call get_weather for Paris"}],
        tools=[MCP, weather],  # type: ignore[list-item]
    )
    assert reply.choices[0].finish_reason == "tool_calls"
    [call] = reply.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert "lowart_pending" not in reply.model_extra
    assert reply.model_extra["lowart_tools"] == []


@pytest.mark.parametrize("tool_settings", [{"tool_max_seconds": 1.0}])
def test_the_time_bound_cuts_a_slow_tool_and_ends_the_loop(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    started = time.monotonic()
    reply = ask(tools, 'Use demo__slow with {"seconds": 5}')
    assert time.monotonic() - started < 4.5
    assert reply.choices[0].finish_reason == "length"
    assert reply.model_extra["lowart_tool_stop"] == "max_seconds"
    [run] = reply.model_extra["lowart_tools"]
    assert run["status"] == "failed" and "time" in run["error"]


def test_every_step_counts_toward_the_keys_limits(tools: ToolGateway):
    """A key allowed one request a minute gets its first step, and is refused the second:
    the loop's steps are requests of the key like any other."""
    tools.policy("demo.*", "auto")
    limited = tools.handle.create_key("one-a-minute", rpm=1)
    with pytest.raises(openai.RateLimitError):
        ask(tools, key=limited)
    rows = [r for r in tools.handle.wait_for_records(1) if r["key_name"] == "one-a-minute"]
    assert [r["status"] for r in rows] == ["ok"]


def test_require_approval_only_ever_makes_a_tool_stricter(tools: ToolGateway):
    client = tools.client()

    def reply_with(policy: str, approval: object):
        tools.policy("demo.*", policy)
        return client.chat.completions.create(
            model="mock",
            messages=[{"role": "user", "content": ECHO}],
            tools=[{**MCP, "require_approval": approval}],  # type: ignore[list-item]
        )

    assert "lowart_pending" in reply_with("auto", "always").model_extra
    named = {"always": {"tool_names": ["echo"]}}
    assert "lowart_pending" in reply_with("auto", named).model_extra
    assert "lowart_pending" in reply_with("confirm", "never").model_extra
    assert "lowart_pending" not in reply_with("auto", "never").model_extra


def test_an_unknown_call_id_is_refused_and_the_session_stays_open(tools: ToolGateway):
    pending = pause(tools)
    wrong = tools.confirm({"session_id": pending["session_id"], "approve": ["call_nope"]})
    assert wrong.status_code == 400
    right = tools.confirm(
        {"session_id": pending["session_id"], "approve": [pending["calls"][0]["id"]]}
    )
    assert right.status_code == 200, right.text


def test_tools_outside_the_keys_allow_list_are_not_found(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    narrow = tools.handle.create_key("only-add", tools=["demo.add"])
    client = tools.client(narrow)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="mock",
            messages=[{"role": "user", "content": ECHO}],
            tools=[{**MCP, "allowed_tools": ["echo"]}],  # type: ignore[list-item]
        )
    # Offered only what it may use: the model cannot call echo, so nothing runs.
    reply = ask(tools, key=narrow)
    assert reply.model_extra["lowart_tools"] == []
    assert not [c for c in tools.audit() if c["tool"] == "echo"]


def test_a_registered_server_that_is_down_is_a_503_to_retry_not_a_404(tools: ToolGateway):
    register(tools.handle, "down", command="/nonexistent/mcp-server", args=[], timeout=5)
    assert wait_until(lambda: tools.handle.runtime.hub.servers()["down"]["state"] == "failed")
    request = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(openai.APIStatusError) as caught:
        tools.client().chat.completions.create(
            **request, tools=[{"type": "mcp", "server_label": "down"}]
        )
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "tool_unavailable"
    # A key that may use none of its tools learns nothing about it: 404 as for no server.
    narrow = tools.handle.create_key("demo-only", tools=["demo.*"])
    with pytest.raises(openai.APIStatusError) as caught:
        tools.client(narrow).chat.completions.create(
            **request, tools=[{"type": "mcp", "server_label": "down"}]
        )
    assert caught.value.status_code == 404
    assert records_of(tools, 0) == []

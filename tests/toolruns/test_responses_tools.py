"""MCP tools on the Responses API, driven with the openai SDK (create, stream, approval
responses) against a real gateway, the mock model and a real upstream MCP server."""

from __future__ import annotations

import openai
import pytest

from tests.toolhub.conftest import register, wait_connected
from tests.toolruns.conftest import ECHO, ToolGateway

MCP = {"type": "mcp", "server_label": "demo", "allowed_tools": ["echo", "add"]}


def create(tools: ToolGateway, **options):
    return tools.client().responses.create(
        model="mock",
        input=ECHO,
        tools=[options.pop("tool", MCP)],  # type: ignore[list-item]
        **options,
    )


def test_auto_lists_calls_and_answers(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    response = create(tools)
    assert response.status == "completed"
    kinds = [item.type for item in response.output]
    assert kinds == ["mcp_list_tools", "mcp_call", "message"]
    listed, call, _ = response.output
    assert listed.server_label == "demo"
    assert sorted(t.name for t in listed.tools) == ["add", "echo"]
    assert (call.server_label, call.name, call.output) == ("demo", "echo", "echo: hello tools")
    assert call.error is None
    assert "The tool returned: echo: hello tools" in response.output_text
    rows = [r for r in tools.handle.wait_for_records(2) if r["key_name"] == "tool-user"]
    assert len(rows) == 2 and {r["interface"] for r in rows} == {"responses"}
    assert response.usage.input_tokens == sum(r["prompt_tokens"] for r in rows)
    # Stored with its items: GET answers the same output.
    stored = tools.client().responses.retrieve(response.id)
    assert [item.type for item in stored.output] == kinds


def test_stream_has_the_mcp_events_the_sdk_parses(tools: ToolGateway):
    tools.policy("demo.*", "auto")
    with tools.client().responses.stream(model="mock", input=ECHO, tools=[MCP]) as stream:  # type: ignore[list-item]
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    for kind in (
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_text.delta",
        "response.completed",
    ):
        assert kind in kinds, kind
    assert kinds.index("response.mcp_call.completed") < kinds.index("response.output_text.delta")
    assert [item.type for item in final.output] == ["mcp_list_tools", "mcp_call", "message"]
    assert "echo: hello tools" in final.output_text


def test_confirm_then_approval_response_runs_it(tools: ToolGateway):
    tools.policy("demo.*", "confirm")
    paused = create(tools)
    request = paused.output[-1]
    assert request.type == "mcp_approval_request"
    assert (request.server_label, request.name) == ("demo", "echo")
    assert not [c for c in tools.audit() if c["tool"] == "echo"]
    response = tools.client().responses.create(
        model="mock",
        previous_response_id=paused.id,
        tools=[MCP],  # type: ignore[list-item]
        input=[
            {"type": "mcp_approval_response", "approval_request_id": request.id, "approve": True}
        ],
    )
    call = next(item for item in response.output if item.type == "mcp_call")
    assert call.approval_request_id == request.id
    assert call.output == "echo: hello tools"
    assert "The tool returned: echo: hello tools" in response.output_text
    [audited] = [c for c in tools.audit() if c["tool"] == "echo"]
    assert audited["decision"] == "approved"


def test_confirm_then_denial_through_tools_confirm(tools: ToolGateway):
    tools.policy("demo.*", "confirm")
    paused = create(tools)
    answer = tools.confirm({"session_id": paused.id, "deny": [paused.output[-1].id]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["object"] == "response" and body["previous_response_id"] == paused.id
    call = next(item for item in body["output"] if item["type"] == "mcp_call")
    assert call["output"] is None and call["status"] == "failed"
    assert not [c for c in tools.audit() if c["tool"] == "echo" and c["decision"] != "denied"]


def test_an_approval_that_a_block_overtook_never_runs(tools: ToolGateway):
    tools.policy("demo.*", "confirm")
    paused = create(tools)
    tools.policy("demo.echo", "block")
    answer = tools.confirm({"session_id": paused.id, "approve": [paused.output[-1].id]})
    assert answer.status_code == 200, answer.text
    call = next(item for item in answer.json()["output"] if item["type"] == "mcp_call")
    assert call["output"] is None and "blocked" in call["error"]["message"]
    assert [c["decision"] for c in tools.audit() if c["tool"] == "echo"] == ["blocked"]


def test_a_conversation_goes_on_after_mcp_items(tools: ToolGateway):
    """A later turn (no MCP tools) continues from a Response with MCP items."""
    tools.policy("demo.*", "auto")
    first = create(tools)
    later = tools.client().responses.create(
        model="mock", previous_response_id=first.id, input="Thanks, and now?"
    )
    assert later.output_text == "This is the lowart mock model. You said: Thanks, and now?"
    items = tools.client().responses.input_items.list(later.id, order="asc")
    assert "mcp_call" in [item.type for item in items.data]


def test_a_paused_stream_ends_with_approval_requests(tools: ToolGateway):
    tools.policy("demo.*", "confirm")
    with tools.client().responses.stream(model="mock", input=ECHO, tools=[MCP]) as stream:  # type: ignore[list-item]
        events = list(stream)
        final = stream.get_final_response()
    assert events[-1].type == "response.completed"
    assert final.output[-1].type == "mcp_approval_request"
    stored = tools.client().responses.retrieve(final.id)
    assert stored.output[-1].id == final.output[-1].id


def test_server_url_must_be_the_registered_one(tools: ToolGateway, http_upstream):
    register(tools.handle, "web", url=http_upstream.url, timeout=5)
    wait_connected(tools.handle, "web")
    tools.policy("web.*", "auto")
    tool = {"type": "mcp", "server_label": "web", "server_url": http_upstream.url}
    response = tools.client().responses.create(
        model="mock",
        input='Please use web__echo with {"text": "over http"}',
        tools=[tool],  # type: ignore[list-item]
    )
    assert "echo: over http" in response.output_text
    elsewhere = {**tool, "server_url": "http://127.0.0.1:9/mcp"}
    with pytest.raises(openai.BadRequestError) as caught:
        tools.client().responses.create(model="mock", input="hi", tools=[elsewhere])  # type: ignore[list-item]
    assert caught.value.body["code"] == "mcp_server_url_mismatch"

"""The chat tool passes tools and response formats on: the mock model's tool calls
and JSON answers reach an MCP client (the official SDK), streamed or not."""

from __future__ import annotations

import json

import pytest

from tests.support.mcp_client import http_client

FORECAST = {
    "type": "function",
    "function": {
        "name": "forecast",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 3}},
            "required": ["city", "days"],
        },
    },
}


async def _no_progress(_progress: float, _total: float | None, _message: str | None) -> None:
    return None


@pytest.mark.parametrize("progress", [False, True])
async def test_chat_tool_returns_the_models_tool_calls(gateway, progress):
    options = {"progress_callback": _no_progress} if progress else {}
    async with http_client(gateway.base_url + "/mcp", gateway.admin_key) as client:
        result = await client.call_tool(
            "chat",
            {"model": "mock", "prompt": "Lima", "tools": [FORECAST], "tool_choice": "required"},
            **options,
        )
    assert not result.is_error
    structured = result.structured_content
    assert structured["finish_reason"] == "tool_calls"
    (call,) = structured["tool_calls"]
    assert call["name"] == "forecast" and call["id"].startswith("call_")
    assert json.loads(call["arguments"]) == {"city": "Lima", "days": 3}
    assert "The model calls: forecast(" in result.content[0].text


async def test_chat_tool_json_schema_and_bad_tools(gateway):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    async with http_client(gateway.base_url + "/mcp", gateway.admin_key) as client:
        result = await client.call_tool(
            "chat",
            {
                "model": "mock",
                "prompt": "fine?",
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": schema},
                },
            },
        )
        assert json.loads(result.structured_content["text"]) == {"ok": True}
        bad = await client.call_tool("chat", {"model": "mock", "prompt": "x", "tools": "all"})
        assert bad.is_error and "'tools' must be an array" in bad.content[0].text
        many = await client.call_tool(
            "chat", {"model": "mock", "prompt": "x", "tools": [FORECAST], "tool_choice": "nope"}
        )
        assert many.is_error and "tool_choice" in many.content[0].text
        unknown = await client.call_tool("chat", {"model": "nope", "bogus": 1})  # model first
        assert unknown.is_error and "The model 'nope' does not exist." in unknown.content[0].text

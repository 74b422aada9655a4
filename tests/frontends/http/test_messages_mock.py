"""The mock model's tool calls through the official anthropic SDK on /v1/messages:
tool_use blocks, then an answer from the tool_result, streamed and not."""

from __future__ import annotations

import anthropic
import jsonschema
import pytest

READ = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {
        "type": "object",
        "properties": {
            "file_path": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1},
        },
        "required": ["file_path"],
    },
}
SEARCH = {
    "name": "search",
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "max": {"type": "integer", "minimum": 3}},
        "required": ["query", "max"],
    },
}


def client(gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key=gateway.admin_key, max_retries=0)


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_round_trip(gateway, stream):
    api = client(gateway)
    messages: list[dict] = [
        {"role": "user", "content": 'Please read_file {"file_path": "/tmp/notes.txt"}'}
    ]
    if stream:
        with api.messages.stream(
            model="mock", max_tokens=200, messages=messages, tools=[SEARCH, READ]
        ) as events:
            first = events.get_final_message()
    else:
        first = api.messages.create(
            model="mock", max_tokens=200, messages=messages, tools=[SEARCH, READ]
        )
    assert first.stop_reason == "tool_use"
    (block,) = first.content
    assert block.type == "tool_use" and block.name == "read_file"
    assert block.input == {"file_path": "/tmp/notes.txt"}
    jsonschema.validate(block.input, READ["input_schema"])
    assert first.usage.output_tokens > 0

    messages += [
        {"role": "assistant", "content": [block.model_dump()]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": block.id, "content": "the secret is 42"},
                {"type": "text", "text": "(a note a client adds after tool results)"},
            ],
        },
    ]
    second = api.messages.create(
        model="mock", max_tokens=200, messages=messages, tools=[SEARCH, READ]
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text"
    assert (
        second.content[0].text
        == "This is the lowart mock model. The tool returned: the secret is 42"
    )
    records = gateway.wait_for_records(2)
    assert {r["interface"] for r in records} == {"anthropic"}


def test_tool_choice_any_and_none(gateway):
    api = client(gateway)
    forced = api.messages.create(
        model="mock",
        max_tokens=100,
        messages=[{"role": "user", "content": "find cats"}],
        tools=[SEARCH, READ],
        tool_choice={"type": "tool", "name": "search"},
    )
    (block,) = forced.content
    assert block.name == "search" and block.input == {"query": "find cats", "max": 3}
    plain = api.messages.create(
        model="mock",
        max_tokens=100,
        messages=[{"role": "user", "content": "find cats"}],
        tools=[SEARCH],
        tool_choice={"type": "none"},
    )
    assert plain.stop_reason == "end_turn" and plain.content[0].type == "text"

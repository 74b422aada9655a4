"""The Responses API translations on their own: request items, tool names, stream events."""

from __future__ import annotations

import pytest

from lowart.errors import InvalidRequest
from lowart.translate import (
    ChatToResponsesEvents,
    ResponsesEventsToChat,
    ToolNames,
    chat_reply_to_output,
    response_object,
    responses_request_to_chat,
)
from tests.support.fake_openai import responses_events


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_namespace_and_custom_tools_round_trip():
    body = {
        "model": "m",
        "input": [
            {"role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "name": "read", "namespace": "fs",
             "arguments": "{}"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** x"},
            {"type": "function_call_output", "call_id": "c1", "output": "data"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "done"},
        ],
        "tools": [
            {"type": "namespace", "name": "fs", "description": "d",
             "tools": [{"type": "function", "name": "read"}]},
            {"type": "custom", "name": "apply_patch"},
            {"type": "file_search"},
        ],
        "tool_choice": {"type": "function", "name": "read", "namespace": "fs"},
    }  # fmt: skip
    chat, names = responses_request_to_chat(body)
    assert [t["function"]["name"] for t in chat["tools"]] == ["fs__read", "apply_patch"]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "fs__read"}}
    assistant = chat["messages"][1]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["fs__read", "apply_patch"]
    assert assistant["tool_calls"][1]["function"]["arguments"] == '{"input":"*** x"}'
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant", "tool", "tool"]
    reply = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [
                        {"id": "a", "function": {"name": "fs__read", "arguments": "{}"}},
                        {"id": "b", "function": {"name": "apply_patch",
                                                 "arguments": '{"input": "patch"}'}},
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }  # fmt: skip
    output, incomplete = chat_reply_to_output(reply, names)
    assert incomplete is None
    assert (output[0]["namespace"], output[0]["name"]) == ("fs", "read")
    assert output[1]["type"] == "custom_tool_call" and output[1]["input"] == "patch"


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "input": [{"type": "message", "role": "tool", "content": "x"}]},
        {"model": "m", "input": [{"role": "user", "content": [{"type": "input_file"}]}]},
        {"model": "m", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
        {"model": "m", "input": "x", "reasoning": "high"},
        {"model": "m", "input": "x", "tools": "all"},
        {"model": 3, "input": "x"},
    ],
)
def test_malformed_requests_are_invalid(body):
    with pytest.raises(InvalidRequest):
        responses_request_to_chat(body)


def _writer(names=None):
    body = {"model": "m", "input": "x"}

    def snapshot(**fields):
        return response_object(body, "resp_1", 0, model="m", **fields)

    return ChatToResponsesEvents(snapshot, names or ToolNames())


def test_an_empty_answer_is_one_empty_message():
    writer = _writer()
    events = (
        writer.start() + writer.feed(_chunk({"role": "assistant"}, "stop")) + writer.finish(None)
    )
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == ""
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_upstream_events_read_back_as_chat_chunks():
    converter = ResponsesEventsToChat("m")
    chunks = [
        c for e in responses_events({"model": "tools", "input": "x"}) for c in converter.feed(e)
    ]
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if c["choices"]
             and "tool_calls" in c["choices"][0]["delta"]]  # fmt: skip
    assert calls[0]["function"]["name"] == "get_weather"
    assert "".join(c["function"].get("arguments", "") for c in calls) == '{"city":"Paris"}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] == 21
    assert chunks[-1]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 4}


@pytest.mark.parametrize("history", [[], [{"role": "assistant", "content": "earlier"}]])
def test_a_plain_question_is_the_same_request_as_its_one_message(history):
    """A string input takes a shortcut; the chat request is the one its item gives."""
    body = {
        "model": "m",
        "input": 'what is "x"?\n',
        "instructions": "be brief",
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "temperature": 0.2,
        "stream": True,
    }
    as_item = {**body, "input": [{"type": "message", "role": "user", "content": body["input"]}]}
    assert responses_request_to_chat(body, history) == responses_request_to_chat(as_item, history)
    chat, _ = responses_request_to_chat(body, history)
    assert chat["messages"][-1] == {"role": "user", "content": 'what is "x"?\n'}
    assert len(chat["messages"]) == 2 + len(history)

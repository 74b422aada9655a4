"""The proto <-> canonical translation on its own, for shapes the live tests do not reach."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2

from lowart._proto import chat_pb2
from lowart.errors import InvalidRequest
from lowart.frontends.grpc._decode import chat_request
from lowart.frontends.grpc._encode import chat_response, stream_response


def _request(**fields) -> chat_pb2.CreateChatCompletionRequest:
    fields.setdefault("messages", [chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")])
    return chat_pb2.CreateChatCompletionRequest(model="m", **fields)


def test_stream_requests_always_ask_for_usage() -> None:
    body = chat_request(chat_pb2.StreamChatCompletionRequest(model="m"), stream=True)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "stream" not in chat_request(_request(), stream=False)


def test_tool_choice_function_and_json_schema() -> None:
    schema = struct_pb2.Struct()
    schema.update({"type": "object", "properties": {"n": {"type": "integer", "maximum": 10}}})
    body = chat_request(
        _request(
            tool_choice=chat_pb2.ToolChoice(function_name="lookup"),
            response_format=chat_pb2.ResponseFormat(
                type=chat_pb2.RESPONSE_FORMAT_TYPE_JSON_SCHEMA,
                json_schema=chat_pb2.JsonSchema(name="answer", schema=schema, strict=True),
            ),
        ),
        stream=False,
    )
    assert body["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 10}}},
            "strict": True,
        },
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"tool_choice": chat_pb2.ToolChoice()},
        {"tools": [chat_pb2.Tool(function=chat_pb2.FunctionDefinition())]},
        {"response_format": chat_pb2.ResponseFormat(type=3)},  # JSON_SCHEMA without a name
        {"messages": [chat_pb2.Message(role=99, content="future role")]},
    ],
    ids=["empty-tool-choice", "nameless-tool", "nameless-schema", "unknown-role"],
)
def test_rejected_shapes(fields) -> None:
    with pytest.raises(InvalidRequest):
        chat_request(_request(**fields), stream=False)


def test_untidy_upstream_replies_encode_without_errors() -> None:
    response = chat_response(
        {
            "id": None,
            "created": "soon",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                        "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {}}}],
                    },
                    "finish_reason": "something_new",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4},
        }
    )
    (choice,) = response.choices
    assert choice.message.content == "ab"
    assert choice.message.tool_calls[0].function.arguments == "{}"
    assert choice.finish_reason == chat_pb2.FINISH_REASON_UNSPECIFIED
    assert (response.id, response.created, response.usage.total_tokens) == ("", 0, 7)


def test_stream_chunks_carry_usage_only_when_present() -> None:
    delta = stream_response(
        {
            "id": "x",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a'}}
                        ]
                    },
                    "finish_reason": None,
                }
            ],
            "usage": None,
        }
    )
    assert not delta.HasField("usage")
    call = delta.choices[0].delta.tool_calls[0]
    assert (call.index, call.id, call.name, call.arguments) == (0, "c1", "f", '{"a')
    last = stream_response({"id": "x", "choices": [], "usage": {"completion_tokens": 2}})
    assert last.HasField("usage") and last.usage.total_tokens == 2

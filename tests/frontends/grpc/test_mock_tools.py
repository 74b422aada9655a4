"""The mock model's tool calls, structured output and `n` over gRPC (generated stubs)."""

from __future__ import annotations

import json

import grpc
import jsonschema
import pytest
from google.protobuf import struct_pb2

from lowart._proto import chat_pb2
from tests.frontends.grpc.conftest import auth
from tests.support.servers import GatewayHandle

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 2}},
    "required": ["city", "days"],
}


def _struct(value: dict) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def _tools() -> list[chat_pb2.Tool]:
    return [
        chat_pb2.Tool(
            function=chat_pb2.FunctionDefinition(name="forecast", parameters=_struct(SCHEMA))
        )
    ]


def _user(text: str) -> chat_pb2.Message:
    return chat_pb2.Message(role=chat_pb2.ROLE_USER, content=text)


def test_tool_call_round_trip_unary(grpc_gateway: GatewayHandle, tcp_chat) -> None:
    first = tcp_chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(
            model="mock",
            messages=[_user("Oslo please")],
            tools=_tools(),
            tool_choice=chat_pb2.ToolChoice(mode=chat_pb2.TOOL_CHOICE_MODE_REQUIRED),
        ),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    (choice,) = first.choices
    assert choice.finish_reason == chat_pb2.FINISH_REASON_TOOL_CALLS
    (call,) = choice.message.tool_calls
    assert call.function.name == "forecast" and call.id.startswith("call_")
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMA)
    assert arguments == {"city": "Oslo please", "days": 2}
    second = tcp_chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(
            model="mock",
            messages=[
                _user("Oslo please"),
                choice.message,
                chat_pb2.Message(role=chat_pb2.ROLE_TOOL, tool_call_id=call.id, content="snow"),
            ],
            tools=_tools(),
        ),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    assert second.choices[0].finish_reason == chat_pb2.FINISH_REASON_STOP
    assert second.choices[0].message.content == (
        "This is the lowart mock model. The tool returned: snow"
    )


def test_streamed_tool_call_and_n(grpc_gateway: GatewayHandle, tcp_chat) -> None:
    messages = list(
        tcp_chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(
                model="mock", messages=[_user("forecast for Oslo")], tools=_tools(), n=2
            ),
            metadata=auth(grpc_gateway.admin_key),
            timeout=10,
        )
    )
    calls: dict[int, dict[str, str]] = {}
    finishes: dict[int, int] = {}
    for message in messages:
        for choice in message.choices:
            for piece in choice.delta.tool_calls:
                call = calls.setdefault(choice.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += piece.id
                call["name"] += piece.name
                call["arguments"] += piece.arguments
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert sorted(calls) == [0, 1]
    assert calls[0]["id"] != calls[1]["id"]
    for call in calls.values():
        assert call["name"] == "forecast"
        assert json.loads(call["arguments"]) == {"city": "forecast for Oslo", "days": 2}
    assert finishes == {0: chat_pb2.FINISH_REASON_TOOL_CALLS, 1: chat_pb2.FINISH_REASON_TOOL_CALLS}
    assert messages[-1].usage.completion_tokens > 0


def test_json_schema_response_format(grpc_gateway: GatewayHandle, tcp_chat) -> None:
    reply = tcp_chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(
            model="mock",
            messages=[_user("Bergen")],
            response_format=chat_pb2.ResponseFormat(
                type=chat_pb2.RESPONSE_FORMAT_TYPE_JSON_SCHEMA,
                json_schema=chat_pb2.JsonSchema(name="forecast", schema=_struct(SCHEMA)),
            ),
        ),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    assert json.loads(reply.choices[0].message.content) == {"city": "Bergen", "days": 2}


def test_too_many_choices_is_invalid_argument(grpc_gateway: GatewayHandle, tcp_chat) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        tcp_chat.CreateChatCompletion(
            chat_pb2.CreateChatCompletionRequest(model="mock", messages=[_user("x")], n=50),
            metadata=auth(grpc_gateway.admin_key),
            timeout=10,
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 8" in raised.value.details()

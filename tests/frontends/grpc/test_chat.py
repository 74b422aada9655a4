"""Chat over gRPC through the generated stubs, over TCP and the Unix socket."""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2

from lowart._proto import chat_pb2, models_pb2
from tests.frontends.grpc.conftest import auth
from tests.support.servers import GatewayHandle


def _user(text: str) -> chat_pb2.Message:
    return chat_pb2.Message(role=chat_pb2.ROLE_USER, content=text)


def test_unary_completion(grpc_gateway: GatewayHandle, chat) -> None:
    response, call = chat.CreateChatCompletion.with_call(
        chat_pb2.CreateChatCompletionRequest(model="mock", messages=[_user("hello there")]),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    assert response.model == "mock"
    assert response.id.startswith("chatcmpl-")
    (choice,) = response.choices
    assert choice.message.role == chat_pb2.ROLE_ASSISTANT
    assert choice.message.content == "This is the lowart mock model. You said: hello there"
    assert choice.finish_reason == chat_pb2.FINISH_REASON_STOP
    usage = response.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    request_id = dict(call.trailing_metadata())["x-request-id"]
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["interface"] == "grpc"
    assert record["request_id"] == request_id
    assert record["status"] == "ok" and record["stream"] is False
    assert record["completion_tokens"] == usage.completion_tokens


def test_stream_sends_usage_in_last_message(grpc_gateway: GatewayHandle, chat) -> None:
    messages = list(
        chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="mock", messages=[_user("one two three")]),
            metadata=auth(grpc_gateway.admin_key),
            timeout=10,
        )
    )
    assert len(messages) > 3
    *deltas, last = messages
    text = "".join(c.delta.content for m in deltas for c in m.choices)
    assert text == "This is the lowart mock model. You said: one two three"
    assert deltas[0].choices[0].delta.role == chat_pb2.ROLE_ASSISTANT
    assert deltas[-1].choices[0].finish_reason == chat_pb2.FINISH_REASON_STOP
    assert not any(m.HasField("usage") for m in deltas)
    assert last.HasField("usage") and not last.choices
    assert last.usage.completion_tokens > 0
    assert {m.model for m in messages} == {"mock"}
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["interface"] == "grpc" and record["stream"] is True
    assert record["status"] == "ok"
    assert record["completion_tokens"] == last.usage.completion_tokens


def test_request_fields_and_extra_reach_the_upstream(grpc_gateway: GatewayHandle, chat) -> None:
    extra = struct_pb2.Struct()
    extra.update({"top_k": 40, "vendor_flag": True, "nested": {"a": [1, 2.5]}})
    parameters = struct_pb2.Struct()
    parameters.update({"type": "object", "properties": {"city": {"type": "string"}}})
    request = chat_pb2.CreateChatCompletionRequest(
        model="fake",
        messages=[
            chat_pb2.Message(role=chat_pb2.ROLE_SYSTEM, content="be brief"),
            chat_pb2.Message(
                role=chat_pb2.ROLE_USER,
                content="look:",
                parts=[
                    chat_pb2.ContentPart(
                        image_url=chat_pb2.ImageUrl(
                            url="data:image/png;base64,AAAA", detail=chat_pb2.IMAGE_DETAIL_LOW
                        )
                    )
                ],
            ),
            chat_pb2.Message(
                role=chat_pb2.ROLE_ASSISTANT,
                tool_calls=[
                    chat_pb2.ToolCall(
                        id="call_1",
                        function=chat_pb2.FunctionCall(name="weather", arguments='{"city":"Oslo"}'),
                    )
                ],
            ),
            chat_pb2.Message(role=chat_pb2.ROLE_TOOL, tool_call_id="call_1", content="sunny"),
            _user("and now?"),
        ],
        temperature=0.0,
        max_tokens=50,
        stop=["END"],
        seed=7,
        tools=[
            chat_pb2.Tool(
                function=chat_pb2.FunctionDefinition(
                    name="weather", description="the weather", parameters=parameters
                )
            )
        ],
        tool_choice=chat_pb2.ToolChoice(mode=chat_pb2.TOOL_CHOICE_MODE_AUTO),
        response_format=chat_pb2.ResponseFormat(type=chat_pb2.RESPONSE_FORMAT_TYPE_JSON_OBJECT),
        user="end-user-1",
        extra=extra,
    )
    response = chat.CreateChatCompletion(request, metadata=auth(grpc_gateway.admin_key), timeout=10)
    assert response.choices[0].message.content == "echo: and now?"
    assert response.usage.total_tokens == 18  # the fake upstream's own count
    sent = grpc_gateway.extra["fake"].requests[-1]
    assert sent["model"] == "echo"
    assert sent["temperature"] == 0.0 and sent["max_tokens"] == 50 and sent["seed"] == 7
    assert sent["stop"] == ["END"] and sent["user"] == "end-user-1"
    assert sent["top_k"] == 40 and isinstance(sent["top_k"], int)
    assert sent["vendor_flag"] is True and sent["nested"] == {"a": [1, 2.5]}
    assert "top_p" not in sent and "n" not in sent  # unset optional fields stay unset
    assert sent["tool_choice"] == "auto"
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["tools"][0]["function"]["parameters"]["properties"] == {"city": {"type": "string"}}
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "user"]
    assert sent["messages"][1]["content"] == [
        {"type": "text", "text": "look:"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
    ]
    assert sent["messages"][2]["content"] is None
    assert sent["messages"][2]["tool_calls"][0]["function"]["name"] == "weather"
    assert sent["messages"][3] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


def test_tool_calls_come_back_typed(grpc_gateway: GatewayHandle, chat) -> None:
    grpc_gateway.add_model(
        "fake-tools",
        "openai",
        base_url=grpc_gateway.extra["fake"].base_url,
        upstream_model="tools",
    )
    response = chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(model="fake-tools", messages=[_user("weather?")]),
        metadata=auth(grpc_gateway.admin_key),
        timeout=10,
    )
    (choice,) = response.choices
    assert choice.finish_reason == chat_pb2.FINISH_REASON_TOOL_CALLS
    (call,) = choice.message.tool_calls
    assert call.id == "call_1" and call.function.name == "get_weather"
    assert call.function.arguments == '{"city":"Paris"}'


def test_list_models_shows_what_the_key_may_use(grpc_gateway: GatewayHandle, models) -> None:
    everything = models.ListModels(
        models_pb2.ListModelsRequest(), metadata=auth(grpc_gateway.admin_key), timeout=10
    )
    assert {(m.id, m.owned_by) for m in everything.models} >= {("mock", "mock"), ("fake", "openai")}
    key = grpc_gateway.create_key("only-mock", models=["mock"])
    limited = models.ListModels(models_pb2.ListModelsRequest(), metadata=auth(key), timeout=10)
    assert [m.id for m in limited.models] == ["mock"]


def test_unauthenticated_call_to_list_models(grpc_gateway: GatewayHandle, models) -> None:
    try:
        models.ListModels(models_pb2.ListModelsRequest(), timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "Missing API key" in exc.details()
    else:
        raise AssertionError("ListModels without a key succeeded")

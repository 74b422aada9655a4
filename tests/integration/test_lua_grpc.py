"""Lua transforms (issue 6) reached over gRPC (issue 3): a route's script rewrites what
a gRPC caller sends and receives, and a failing script ends the call with the status
TransformFailed names, the message naming route, phase and Lua error."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2

from lowart._proto import chat_pb2
from lowart.errors import TransformFailed
from tests.integration.conftest import grpc_auth, records, set_script, user

REQUEST_SCRIPT = """
function request(p, ctx)
  table.insert(p.messages, 1, {role = "system", content = "Answer in French."})
  -- this vendor calls it max_new_tokens and wants sampling options nested
  p.max_new_tokens, p.max_tokens = p.max_tokens, nil
  if p.top_k ~= nil then
    p.sampling = {top_k = p.top_k}
    p.top_k = nil
  end
  p.routed_by = ctx.route .. "/" .. ctx.interface .. "/" .. ctx.key_name
  return p
end
"""

RESPONSE_SCRIPT = """
function response(r, ctx)
  r.choices[1].message.content = string.upper(r.choices[1].message.content)
  return r
end
"""

CHUNK_SCRIPT = """
function chunk(e, ctx)
  local choice = e.choices[1]
  if choice and choice.delta.content == "w1 " then return nil end
  if choice and choice.delta.content then
    choice.delta.content = "<" .. choice.delta.content .. ">"
  end
  return e
end
"""

FAILS_ON_BOOM = """
function request(p)
  if p.messages[1].content == "boom" then
    local missing = nil
    return missing.field
  end
  return p
end
"""

FAILS_ON_W2 = """
function chunk(e)
  local choice = e.choices[1]
  if choice and choice.delta.content == "w2 " then error("cannot handle w2") end
  return e
end
"""

EXPECTED_CODE = grpc.StatusCode[TransformFailed.grpc_code]


def _extra(**fields) -> struct_pb2.Struct:
    extra = struct_pb2.Struct()
    extra.update(fields)
    return extra


def test_unary_call_is_rewritten_both_ways(live, chat):
    set_script(live, "fake", REQUEST_SCRIPT + RESPONSE_SCRIPT)
    key = live.create_key("alice")
    response = chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(
            model="fake", messages=[user("hello")], max_tokens=7, extra=_extra(top_k=40)
        ),
        metadata=grpc_auth(key),
        timeout=10,
    )
    assert response.choices[0].message.content == "ECHO: HELLO"
    assert response.model == "fake"
    sent = live.extra["fake"].requests[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "hello"},
    ]
    assert sent["max_new_tokens"] == 7 and "max_tokens" not in sent
    assert sent["sampling"] == {"top_k": 40} and "top_k" not in sent
    assert sent["routed_by"] == "fake/grpc/alice"
    (record,) = records(live, 1)
    assert (record["interface"], record["status"], record["route"]) == ("grpc", "ok", "fake")


def test_stream_chunks_are_dropped_and_rewritten(live, chat):
    set_script(live, "fake", REQUEST_SCRIPT + CHUNK_SCRIPT)
    messages = list(
        chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="fake", messages=[user("x")]),
            metadata=grpc_auth(live.admin_key),
            timeout=10,
        )
    )
    text = "".join(c.delta.content for m in messages for c in m.choices)
    assert text == "<w0 ><w2 ><w3 ><w4 >"
    last = messages[-1]
    assert last.HasField("usage") and not last.choices
    assert last.usage.completion_tokens == 5  # the upstream's count: a dropped chunk was billed
    sent = live.extra["fake"].requests[-1]
    assert sent["messages"][0]["content"] == "Answer in French."
    assert sent["routed_by"] == "fake/grpc/test-admin"
    (record,) = records(live, 1)
    assert record["interface"] == "grpc" and record["stream"] and record["status"] == "ok"
    assert record["completion_tokens"] == 5


def test_a_failing_request_script_fails_the_unary_call(live, chat):
    set_script(live, "fake", FAILS_ON_BOOM)
    with pytest.raises(grpc.RpcError) as caught:
        chat.CreateChatCompletion(
            chat_pb2.CreateChatCompletionRequest(model="fake", messages=[user("boom")]),
            metadata=grpc_auth(live.admin_key),
            timeout=10,
        )
    error = caught.value
    assert error.code() == EXPECTED_CODE == grpc.StatusCode.FAILED_PRECONDITION
    details = error.details()
    assert "model 'fake'" in details and "failed in request" in details
    assert "script:5:" in details  # the Lua error and its line
    assert live.extra["fake"].requests == []  # nothing half-transformed went upstream
    (record,) = records(live, 1)
    assert record["interface"] == "grpc" and record["status"] == "error"
    assert record["error_code"] == "transform_failed" and record["route"] == "fake"
    # the same route still serves what the script accepts
    ok = chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(model="fake", messages=[user("fine")]),
        metadata=grpc_auth(live.admin_key),
        timeout=10,
    )
    assert ok.choices[0].message.content == "echo: fine"


def test_a_failing_request_script_fails_the_stream_before_its_first_message(live, chat):
    set_script(live, "fake", FAILS_ON_BOOM)
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for message in chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="fake", messages=[user("boom")]),
            metadata=grpc_auth(live.admin_key),
            timeout=10,
        ):
            received.append(message)
    assert received == []
    assert caught.value.code() == EXPECTED_CODE
    assert "failed in request" in caught.value.details()
    (record,) = records(live, 1)
    assert (record["interface"], record["stream"], record["error_code"]) == (
        "grpc",
        True,
        "transform_failed",
    )


def test_a_script_failing_mid_stream_ends_the_stream_with_its_status(live, chat):
    set_script(live, "fake", FAILS_ON_W2)
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for message in chat.StreamChatCompletion(
            chat_pb2.StreamChatCompletionRequest(model="fake", messages=[user("x")]),
            metadata=grpc_auth(live.admin_key),
            timeout=10,
        ):
            received.append(message)
    assert "".join(c.delta.content for m in received for c in m.choices) == "w0 w1 "
    error = caught.value
    assert error.code() == EXPECTED_CODE
    assert "model 'fake'" in error.details() and "failed in chunk" in error.details()
    assert "cannot handle w2" in error.details()
    assert dict(error.trailing_metadata()).get("x-request-id", "").startswith("req_")
    (record,) = records(live, 1)
    assert record["interface"] == "grpc" and record["stream"] and record["status"] == "error"
    assert record["error_code"] == "transform_failed"
    # the tokens the caller received before the failure, counted locally
    assert record["completion_tokens"] > 0 and record["usage_source"] != "upstream"

"""Canonical (OpenAI-shaped) responses and stream chunks to protobuf, on the way out.

Upstream replies are only as tidy as the vendor makes them, so every field is
read defensively: a missing or null field becomes the proto default, an
unknown role or finish reason becomes UNSPECIFIED, never an exception.
"""

from __future__ import annotations

from typing import Any

import orjson

from lowart._proto import chat_pb2, models_pb2
from lowart.frontends.grpc._decode import ROLE_NAMES
from lowart.types import ChatChunk, ChatResponse, Route

__all__ = ["chat_response", "models_response", "stream_response"]

_ROLES = {name: value for value, name in ROLE_NAMES.items()}
_FINISH = {
    "stop": chat_pb2.FINISH_REASON_STOP,
    "length": chat_pb2.FINISH_REASON_LENGTH,
    "tool_calls": chat_pb2.FINISH_REASON_TOOL_CALLS,
    "function_call": chat_pb2.FINISH_REASON_TOOL_CALLS,
    "content_filter": chat_pb2.FINISH_REASON_CONTENT_FILTER,
}


def chat_response(response: ChatResponse) -> chat_pb2.CreateChatCompletionResponse:
    return chat_pb2.CreateChatCompletionResponse(
        id=_text(response.get("id")),
        model=_text(response.get("model")),
        created=_int(response.get("created")),
        choices=[_choice(c) for c in response.get("choices") or () if isinstance(c, dict)],
        usage=_usage(response.get("usage")),
        system_fingerprint=_text(response.get("system_fingerprint")),
    )


def stream_response(chunk: ChatChunk) -> chat_pb2.StreamChatCompletionResponse:
    message = chat_pb2.StreamChatCompletionResponse(
        id=_text(chunk.get("id")),
        model=_text(chunk.get("model")),
        created=_int(chunk.get("created")),
        choices=[_choice_delta(c) for c in chunk.get("choices") or () if isinstance(c, dict)],
    )
    usage = chunk.get("usage")
    if usage:
        message.usage.CopyFrom(_usage(usage))
    return message


def models_response(routes: list[Route]) -> models_pb2.ListModelsResponse:
    return models_pb2.ListModelsResponse(
        models=[models_pb2.Model(id=r.name, owned_by=r.vendor) for r in routes]
    )


def _choice(choice: dict[str, Any]) -> chat_pb2.Choice:
    message = choice.get("message") or {}
    return chat_pb2.Choice(
        index=_int(choice.get("index")),
        message=chat_pb2.Message(
            role=_ROLES.get(message.get("role") or "assistant", chat_pb2.ROLE_UNSPECIFIED),
            content=_content(message.get("content")),
            tool_calls=[_tool_call(c) for c in message.get("tool_calls") or () if c],
            refusal=_text(message.get("refusal")),
        ),
        finish_reason=_finish(choice.get("finish_reason")),
    )


def _choice_delta(choice: dict[str, Any]) -> chat_pb2.ChoiceDelta:
    delta = choice.get("delta") or {}
    return chat_pb2.ChoiceDelta(
        index=_int(choice.get("index")),
        delta=chat_pb2.Delta(
            role=_ROLES.get(delta.get("role") or "", chat_pb2.ROLE_UNSPECIFIED),
            content=_content(delta.get("content")),
            tool_calls=[_tool_call_delta(c) for c in delta.get("tool_calls") or () if c],
            refusal=_text(delta.get("refusal")),
        ),
        finish_reason=_finish(choice.get("finish_reason")),
    )


def _tool_call(call: dict[str, Any]) -> chat_pb2.ToolCall:
    function = call.get("function") or {}
    return chat_pb2.ToolCall(
        id=_text(call.get("id")),
        function=chat_pb2.FunctionCall(
            name=_text(function.get("name")), arguments=_arguments(function.get("arguments"))
        ),
    )


def _tool_call_delta(call: dict[str, Any]) -> chat_pb2.ToolCallDelta:
    function = call.get("function") or {}
    return chat_pb2.ToolCallDelta(
        index=_int(call.get("index")),
        id=_text(call.get("id")),
        name=_text(function.get("name")),
        arguments=_arguments(function.get("arguments")),
    )


def _usage(usage: Any) -> chat_pb2.Usage:
    usage = usage if isinstance(usage, dict) else {}
    prompt = _int(usage.get("prompt_tokens"))
    completion = _int(usage.get("completion_tokens"))
    return chat_pb2.Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_int(usage.get("total_tokens")) or prompt + completion,
    )


def _content(content: Any) -> str:
    """Text content; a list of parts (some vendors answer that way) is joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "") for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def _arguments(arguments: Any) -> str:
    if arguments is None or isinstance(arguments, str):
        return arguments or ""
    return orjson.dumps(arguments).decode()


def _finish(reason: Any) -> chat_pb2.FinishReason:
    if not reason:
        return chat_pb2.FINISH_REASON_UNSPECIFIED
    return _FINISH.get(reason, chat_pb2.FINISH_REASON_UNSPECIFIED)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

"""Protobuf requests to the canonical (OpenAI-shaped) request, once, on the way in.

Only the translation happens here; the gateway validates what it relies on
(model, message roles, numeric ranges), so the same rules and messages apply to
every interface. What proto cannot express on its own (an unset role, an empty
content part, `extra` trying to replace the model) is rejected here.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from lowart._proto import chat_pb2
from lowart.errors import InvalidRequest

__all__ = ["chat_request"]

ChatRequestMessage = chat_pb2.CreateChatCompletionRequest | chat_pb2.StreamChatCompletionRequest

ROLE_NAMES: dict[chat_pb2.Role, str] = {
    chat_pb2.ROLE_SYSTEM: "system",
    chat_pb2.ROLE_USER: "user",
    chat_pb2.ROLE_ASSISTANT: "assistant",
    chat_pb2.ROLE_TOOL: "tool",
    chat_pb2.ROLE_DEVELOPER: "developer",
}
_DETAIL = {
    chat_pb2.IMAGE_DETAIL_AUTO: "auto",
    chat_pb2.IMAGE_DETAIL_LOW: "low",
    chat_pb2.IMAGE_DETAIL_HIGH: "high",
}
_TOOL_CHOICE = {
    chat_pb2.TOOL_CHOICE_MODE_NONE: "none",
    chat_pb2.TOOL_CHOICE_MODE_AUTO: "auto",
    chat_pb2.TOOL_CHOICE_MODE_REQUIRED: "required",
}
_FORMAT = {
    chat_pb2.RESPONSE_FORMAT_TYPE_TEXT: "text",
    chat_pb2.RESPONSE_FORMAT_TYPE_JSON_OBJECT: "json_object",
    chat_pb2.RESPONSE_FORMAT_TYPE_JSON_SCHEMA: "json_schema",
}
_OPTIONAL_SCALARS = (
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "n",
    "presence_penalty",
    "frequency_penalty",
)
# `extra` passes vendor options through; it may not redefine the call itself.
_RESERVED_EXTRA = frozenset({"model", "messages", "stream", "stream_options"})


def chat_request(message: ChatRequestMessage, *, stream: bool) -> dict[str, Any]:
    """The canonical request; a stream always asks for usage (it ends the stream)."""
    body: dict[str, Any] = _extra(message) if message.HasField("extra") else {}
    body["model"] = message.model
    body["messages"] = [_message(i, m) for i, m in enumerate(message.messages)]
    for name in _OPTIONAL_SCALARS:
        if message.HasField(name):
            body[name] = getattr(message, name)
    if message.stop:
        body["stop"] = list(message.stop)
    if message.HasField("response_format"):
        body["response_format"] = _response_format(message.response_format)
    if message.tools:
        body["tools"] = [_tool(i, t) for i, t in enumerate(message.tools)]
    if message.HasField("tool_choice"):
        body["tool_choice"] = _tool_choice(message.tool_choice)
    if message.user:
        body["user"] = message.user
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _extra(message: ChatRequestMessage) -> dict[str, Any]:
    extra: dict[str, Any] = _plain(MessageToDict(message.extra))
    clash = sorted(_RESERVED_EXTRA.intersection(extra))
    if clash:
        raise InvalidRequest(
            f"'extra' may not set {', '.join(clash)}; use the request's own fields.",
            param="extra",
        )
    return extra


def _plain(value: Any) -> Any:
    """Struct numbers are all doubles; whole ones go upstream as integers (`top_k: 40`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _message(index: int, message: chat_pb2.Message) -> dict[str, Any]:
    param = f"messages[{index}]"
    role = ROLE_NAMES.get(message.role)
    if role is None:
        raise InvalidRequest(
            f"'{param}.role' must be set (ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT, ROLE_TOOL"
            " or ROLE_DEVELOPER).",
            param=f"{param}.role",
        )
    out: dict[str, Any] = {"role": role}
    if message.parts:
        parts = [{"type": "text", "text": message.content}] if message.content else []
        parts += [_part(f"{param}.parts[{i}]", p) for i, p in enumerate(message.parts)]
        out["content"] = parts
    elif message.content or not message.tool_calls:
        out["content"] = message.content
    else:
        out["content"] = None  # an assistant turn that only called tools
    if message.name:
        out["name"] = message.name
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.refusal:
        out["refusal"] = message.refusal
    return out


def _part(param: str, part: chat_pb2.ContentPart) -> dict[str, Any]:
    kind = part.WhichOneof("part")
    if kind == "text":
        return {"type": "text", "text": part.text}
    if kind == "image_url":
        if not part.image_url.url:
            raise InvalidRequest(f"'{param}.image_url.url' is required.", param=param)
        image: dict[str, Any] = {"url": part.image_url.url}
        detail = _DETAIL.get(part.image_url.detail)
        if detail:
            image["detail"] = detail
        return {"type": "image_url", "image_url": image}
    raise InvalidRequest(f"'{param}' is empty: set 'text' or 'image_url'.", param=param)


def _tool(index: int, tool: chat_pb2.Tool) -> dict[str, Any]:
    function = tool.function
    if not function.name:
        param = f"tools[{index}].function.name"
        raise InvalidRequest(f"'{param}' is required.", param=param)
    out: dict[str, Any] = {"name": function.name}
    if function.description:
        out["description"] = function.description
    if function.HasField("parameters"):
        out["parameters"] = _plain(MessageToDict(function.parameters))
    if function.HasField("strict"):
        out["strict"] = function.strict
    return {"type": "function", "function": out}


def _tool_choice(choice: chat_pb2.ToolChoice) -> str | dict[str, Any]:
    kind = choice.WhichOneof("choice")
    if kind == "function_name" and choice.function_name:
        return {"type": "function", "function": {"name": choice.function_name}}
    mode = _TOOL_CHOICE.get(choice.mode) if kind == "mode" else None
    if mode is None:
        raise InvalidRequest(
            "'tool_choice' must set a mode (NONE, AUTO, REQUIRED) or a function_name.",
            param="tool_choice",
        )
    return mode


def _response_format(fmt: chat_pb2.ResponseFormat) -> dict[str, Any]:
    kind = _FORMAT.get(fmt.type)
    if kind is None:
        raise InvalidRequest("'response_format.type' must be set.", param="response_format.type")
    out: dict[str, Any] = {"type": kind}
    if kind == "json_schema":
        schema = fmt.json_schema
        if not schema.name:
            raise InvalidRequest(
                "'response_format.json_schema.name' is required for JSON_SCHEMA.",
                param="response_format.json_schema.name",
            )
        spec: dict[str, Any] = {"name": schema.name}
        if schema.description:
            spec["description"] = schema.description
        if schema.HasField("schema"):
            spec["schema"] = _plain(MessageToDict(schema.schema))
        if schema.HasField("strict"):
            spec["strict"] = schema.strict
        out["json_schema"] = spec
    return out

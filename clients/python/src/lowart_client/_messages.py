"""Building requests from plain Python values, and reading text back out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from lowart_client._proto import chat_pb2

__all__ = ["MessageLike", "build_request", "delta_text", "to_message"]

MessageLike = chat_pb2.Message | Mapping[str, Any] | str
Request = TypeVar(
    "Request", chat_pb2.CreateChatCompletionRequest, chat_pb2.StreamChatCompletionRequest
)

_ROLES = {
    "system": chat_pb2.ROLE_SYSTEM,
    "user": chat_pb2.ROLE_USER,
    "assistant": chat_pb2.ROLE_ASSISTANT,
    "tool": chat_pb2.ROLE_TOOL,
    "developer": chat_pb2.ROLE_DEVELOPER,
}


def to_message(message: MessageLike) -> chat_pb2.Message:
    """A `Message`, from a string (a user message), a `{"role", "content"}` dict or a Message."""
    if isinstance(message, chat_pb2.Message):
        return message
    if isinstance(message, str):
        return chat_pb2.Message(role=chat_pb2.ROLE_USER, content=message)
    fields = dict(message)
    role = fields.pop("role", "user")
    if isinstance(role, str):
        if role not in _ROLES:
            raise ValueError(f"unknown role {role!r}; use one of {', '.join(_ROLES)}")
        role = _ROLES[role]
    return chat_pb2.Message(role=role, **fields)


def build_request(
    kind: type[Request],
    model: str,
    messages: MessageLike | Iterable[MessageLike],
    params: Mapping[str, Any],
) -> Request:
    """`params` are the request's fields (temperature=..., max_tokens=...); `extra` is a dict."""
    if isinstance(messages, str | Mapping | chat_pb2.Message):
        messages = [messages]
    fields = dict(params)
    extra = fields.pop("extra", None)
    if isinstance(fields.get("stop"), str):
        fields["stop"] = [fields["stop"]]
    request = kind(model=model, messages=[to_message(m) for m in messages], **fields)
    if extra:
        request.extra.update(dict(extra))
    return request


def delta_text(message: chat_pb2.StreamChatCompletionResponse) -> str:
    """The text a stream message adds (all choices, in order)."""
    return "".join(choice.delta.content for choice in message.choices)

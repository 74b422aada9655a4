"""Replies and usage between the canonical (OpenAI) shape and Anthropic's Messages API.

Usage: Anthropic's `input_tokens` excludes the tokens read from or written to
the prompt cache, while OpenAI's `prompt_tokens` includes cached tokens. So the
canonical usage is `prompt_tokens = input + cache_read + cache_creation`, with
`prompt_tokens_details.cached_tokens = cache_read` and
`cache_creation_input_tokens = cache_creation` (the gateway puts both in the
usage record); the reverse subtracts them again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from lowart.types import ChatResponse

__all__ = [
    "anthropic_error_status",
    "anthropic_response_to_openai",
    "anthropic_usage_to_openai",
    "finish_reason_to_anthropic",
    "message_id_for",
    "openai_response_to_anthropic",
    "openai_usage_to_anthropic",
    "stop_reason_to_openai",
]

_STOP_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

# Anthropic's documented error types and their HTTP statuses.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def anthropic_error_status(error_type: str | None) -> int:
    """The HTTP status Anthropic uses for an error type (for errors sent mid-stream)."""
    return _ERROR_STATUS.get(error_type or "", 500)


def stop_reason_to_openai(reason: str | None) -> str | None:
    if reason is None:
        return None
    return _STOP_TO_FINISH.get(reason, "stop")


def finish_reason_to_anthropic(reason: str | None) -> str | None:
    if reason is None:
        return None
    return _FINISH_TO_STOP.get(reason, "end_turn")


def anthropic_usage_to_openai(usage: object) -> dict[str, Any]:
    """Anthropic's usage in the canonical shape; `{}` (no usage: the gateway counts
    the tokens itself) when it is not an object of integers. Ranges are the
    gateway's to check (lowart.accounting.checked_usage)."""
    if not isinstance(usage, dict):
        return {}
    counts = [
        usage.get(name) or 0
        for name in (
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "input_tokens",
            "output_tokens",
        )
    ]
    if not all(type(count) is int for count in counts):
        return {}
    read, creation, given, completion = counts
    prompt = given + read + creation
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": read},
    }
    if creation:
        out["cache_creation_input_tokens"] = creation
    return out


def openai_usage_to_anthropic(usage: Mapping[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    read = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    creation = int(usage.get("cache_creation_input_tokens") or 0)
    return {
        "input_tokens": max(0, int(usage.get("prompt_tokens") or 0) - read - creation),
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": read,
    }


def anthropic_response_to_openai(message: dict[str, Any]) -> dict[str, Any]:
    """A canonical chat completion for a Messages API reply."""
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "thinking":
            thinking.append(block.get("thinking", ""))
        elif kind == "tool_use":
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": json.dumps(block.get("input") or {}, ensure_ascii=False),
                    },
                }
            )
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if thinking:
        reply["reasoning_content"] = "".join(thinking)
    if calls:
        reply["tool_calls"] = calls
    return {
        "id": message.get("id") or f"msg_{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": message.get("model"),
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": stop_reason_to_openai(message.get("stop_reason")),
            }
        ],
        "usage": anthropic_usage_to_openai(message.get("usage") or {}),
    }


def openai_response_to_anthropic(response: ChatResponse) -> dict[str, Any]:
    """A Messages API reply for a canonical chat completion (first choice)."""
    choices = response.get("choices") or [{}]
    choice = choices[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": _arguments(function.get("arguments")),
            }
        )
    return {
        "id": message_id_for(response.get("id")),
        "type": "message",
        "role": "assistant",
        "model": response.get("model"),
        "content": content,
        "stop_reason": finish_reason_to_anthropic(choice.get("finish_reason")) or "end_turn",
        "stop_sequence": None,
        "usage": openai_usage_to_anthropic(response.get("usage")),
    }


def message_id_for(openai_id: Any) -> str:
    """Anthropic ids start with `msg_`; keep one that does, prefix one that does not."""
    if isinstance(openai_id, str) and openai_id.startswith("msg_"):
        return openai_id
    return f"msg_{openai_id or uuid.uuid4().hex}"


def _arguments(arguments: Any) -> Any:
    """Tool arguments as an object; a model's malformed JSON is kept as a string under `_raw`."""
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except (TypeError, ValueError):
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_raw": arguments}

"""Responses API objects: built from a canonical chat reply, and read back into one.

A Response echoes its request's settings (instructions, tools, tool_choice,
text, reasoning, ...), lists its output items (a message with `output_text`
parts, function calls) and its usage in the Responses vocabulary
(`input_tokens`, `output_tokens` and their details). `responses_reply_to_chat`
goes the other way, for an upstream that serves `/responses` itself: the engine
meters and records every call in the canonical shape.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from lowart.translate._responses_request import ToolNames

__all__ = [
    "chat_reply_to_output",
    "chat_usage_to_responses",
    "echoed_settings",
    "new_id",
    "response_object",
    "responses_reply_to_chat",
    "responses_usage_to_chat",
]

# The request fields a Response echoes, with OpenAI's defaults.
_ECHOED: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "reasoning": {"effort": None, "summary": None},
    "safety_identifier": None,
    "service_tier": "default",
    "store": True,
    "temperature": 1.0,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": 0,
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
    "background": False,
}

_FINISH_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    """An id in OpenAI's style: `resp_`, `msg_`, `fc_`, `ctc_` and 48 hex digits."""
    return f"{prefix}_{secrets.token_hex(24)}"


def echoed_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The request settings every state of a Response repeats (computed once per request)."""
    settings = _ECHOED.copy()  # its order is the wire order; set values keep their place
    for name, value in body.items():
        if value is not None and name in settings:
            settings[name] = value
    settings["background"] = bool(body.get("background"))
    if isinstance(settings["reasoning"], dict):
        settings["reasoning"] = {"effort": None, "summary": None, **settings["reasoning"]}
    return settings


def response_object(
    body: dict[str, Any],
    response_id: str,
    created_at: float,
    *,
    model: str,
    status: str,
    output: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    incomplete: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Response object for a request `body` in a given state (`settings`: its
    `echoed_settings`, when the caller keeps them)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(created_at),
        "status": status,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": error,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "model": model,
        "output": output or [],
        **(settings if settings is not None else echoed_settings(body)),
        "usage": usage,
    }


def chat_usage_to_responses(usage: Any) -> dict[str, Any] | None:
    """Chat Completions usage in the Responses API's words."""
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": int(prompt_details.get("cached_tokens") or 0)},
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": int(completion_details.get("reasoning_tokens") or 0)
        },
        "total_tokens": prompt + completion,
    }


def responses_usage_to_chat(usage: Any) -> dict[str, Any] | None:
    """A Responses API usage object as Chat Completions usage (what the engine records)."""
    if not isinstance(usage, dict):
        return None
    input_details = usage.get("input_tokens_details")
    output_details = usage.get("output_tokens_details")
    chat: dict[str, Any] = {
        "prompt_tokens": usage.get("input_tokens"),
        "completion_tokens": usage.get("output_tokens"),
        "total_tokens": usage.get("total_tokens"),
    }
    if isinstance(input_details, dict):
        chat["prompt_tokens_details"] = {"cached_tokens": input_details.get("cached_tokens") or 0}
    if isinstance(output_details, dict):
        chat["completion_tokens_details"] = {
            "reasoning_tokens": output_details.get("reasoning_tokens") or 0
        }
    return chat


def chat_reply_to_output(
    reply: dict[str, Any], names: ToolNames
) -> tuple[list[dict[str, Any]], str | None]:
    """The output items of a chat reply's first choice, and why it is incomplete if so."""
    choices = reply.get("choices") or []
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    output: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, list):
        text = "".join(str(p.get("text", "")) for p in text if isinstance(p, dict))
    refusal = message.get("refusal")
    if text or refusal or not message.get("tool_calls"):
        part = (
            {"type": "refusal", "refusal": refusal}
            if refusal and not text
            else output_text_part(text or "")
        )
        output.append(message_item(new_id("msg"), [part], "completed"))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        item = names.function_item(
            str(call.get("id") or new_id("call")),
            str(function.get("name") or ""),
            str(function.get("arguments") or ""),
        )
        output.append(
            {"id": new_id("ctc" if item["type"] == "custom_tool_call" else "fc"), **item}
            | {"status": "completed"}
        )
    return output, _FINISH_INCOMPLETE.get(str(choice.get("finish_reason")))


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def message_item(item_id: str, content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }


def responses_reply_to_chat(reply: dict[str, Any]) -> dict[str, Any]:
    """A Response object from an upstream as a canonical chat reply (text, calls, usage)."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in reply.get("output") or ():
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            for part in item.get("content") or ():
                if isinstance(part, dict) and part.get("type") == "output_text":
                    texts.append(str(part.get("text") or ""))
        elif item.get("type") == "function_call":
            calls.append(
                {
                    "id": item.get("call_id"),
                    "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments")},
                }
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    incomplete = (reply.get("incomplete_details") or {}).get("reason")
    finish = "tool_calls" if calls else "length" if incomplete == "max_output_tokens" else "stop"
    chat: dict[str, Any] = {
        "id": reply.get("id"),
        "object": "chat.completion",
        "created": reply.get("created_at"),
        "model": reply.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    usage = responses_usage_to_chat(reply.get("usage"))
    if usage is not None:
        chat["usage"] = usage
    return chat

"""The `chat` tool: one model call through the Gateway, answer text plus usage.

Without a progress token the call is a plain completion. When the client asks
for progress, the tool streams from the Gateway instead and reports progress
every few chunks, so an agent (and its user) can see a long answer being
written; the result is the same either way.
"""

from __future__ import annotations

from typing import Any

from lowart.errors import InvalidRequest
from lowart.frontends.mcp._arguments import optional_string, reject_unknown, required_string
from lowart.frontends.mcp._spec import Caller, ToolOutput, ToolSpec
from lowart.types import CallContext

__all__ = ["CHAT", "PROGRESS_EVERY", "chat_request"]

# A progress notification per this many streamed chunks (and one at the end).
PROGRESS_EVERY = 4

_ARGUMENTS = ("model", "prompt", "messages", "system", "temperature", "max_tokens")
_ROLES = ("system", "user", "assistant")


def chat_request(arguments: dict[str, Any]) -> dict[str, Any]:
    """The tool's arguments as a canonical (OpenAI-shaped) chat request."""
    reject_unknown(arguments, _ARGUMENTS)
    model = required_string(arguments, "model")
    prompt = optional_string(arguments, "prompt")
    system = optional_string(arguments, "system")
    messages = arguments.get("messages")
    if (prompt is None) == (messages is None):
        raise InvalidRequest("Give either 'prompt' (one user message) or 'messages', not both.")
    if prompt is not None:
        messages = [{"role": "user", "content": prompt}]
    elif not isinstance(messages, list) or not messages:
        raise InvalidRequest(
            "'messages' must be a non-empty array of {role, content}.", param="messages"
        )
    else:
        messages = [_message(i, m) for i, m in enumerate(messages)]
    if system is not None:
        messages = [{"role": "system", "content": system}, *messages]
    request: dict[str, Any] = {"model": model, "messages": messages}
    for name in ("temperature", "max_tokens"):
        if arguments.get(name) is not None:
            request[name] = arguments[name]
    return request


def _message(index: int, message: Any) -> dict[str, Any]:
    if not isinstance(message, dict) or message.get("role") not in _ROLES:
        raise InvalidRequest(
            f"'messages[{index}]' must be an object with 'role' ({', '.join(_ROLES)}) "
            "and 'content'.",
            param=f"messages[{index}]",
        )
    if not isinstance(message.get("content"), str):
        raise InvalidRequest(
            f"'messages[{index}].content' must be a string.", param=f"messages[{index}].content"
        )
    return {"role": message["role"], "content": message["content"]}


async def _chat(caller: Caller, arguments: dict[str, Any]) -> ToolOutput:
    request = chat_request(arguments)
    ctx = caller.call_context()
    if caller.wants_progress:
        text, finish_reason, usage, model = await _streamed(caller, request, ctx)
    else:
        response = await caller.gateway.complete(caller.principal, request, ctx)
        choice = (response.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        finish_reason = choice.get("finish_reason")
        usage, model = dict(response["usage"]), response["model"]
    return ToolOutput(
        text,
        {
            "model": model,
            "text": text,
            "finish_reason": finish_reason,
            "usage": {
                name: int(usage.get(name) or 0)
                for name in ("prompt_tokens", "completion_tokens", "total_tokens")
            },
        },
    )


async def _streamed(
    caller: Caller, request: dict[str, Any], ctx: CallContext
) -> tuple[str, str | None, dict[str, Any], str]:
    request = {**request, "stream": True, "stream_options": {"include_usage": True}}
    parts: list[str] = []
    finish_reason: str | None = None
    usage: dict[str, Any] = {}
    chunks = 0
    async with await caller.gateway.open_stream(caller.principal, request, ctx) as stream:
        async for chunk in stream:
            usage = dict(chunk.get("usage") or usage)
            for choice in chunk.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    parts.append(content)
                    chunks += 1
                    if chunks % PROGRESS_EVERY == 0:
                        await caller.report_progress(chunks, None, f"{chunks} chunks received")
                finish_reason = choice.get("finish_reason") or finish_reason
        await caller.report_progress(chunks, chunks, "answer complete")
        return "".join(parts), finish_reason, usage, stream.route.name


CHAT = ToolSpec(
    name="chat",
    title="Chat with a model",
    description=(
        "Ask one of the gateway's models (see `list_models`) and get its answer. Give the model "
        "name and either `prompt` (a single user message) or `messages` (a conversation, oldest "
        "first); optionally a `system` prompt, `temperature` and `max_tokens`. Returns the "
        "answer text; the structured result also has the model, finish reason and token usage."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string", "description": "Model name, as listed by list_models."},
            "prompt": {
                "type": "string",
                "description": "A single user message. Give this or `messages`.",
            },
            "messages": {
                "type": "array",
                "description": "The conversation, oldest first. Give this or `prompt`.",
                "items": {
                    "type": "object",
                    "properties": {
                        "role": {"type": "string", "enum": list(_ROLES)},
                        "content": {"type": "string"},
                    },
                    "required": ["role", "content"],
                },
                "minItems": 1,
            },
            "system": {"type": "string", "description": "Optional system prompt, sent first."},
            "temperature": {
                "type": "number",
                "minimum": 0,
                "maximum": 2,
                "description": "Sampling temperature; lower is more deterministic.",
            },
            "max_tokens": {
                "type": "integer",
                "minimum": 1,
                "description": "Upper bound on the answer's length in tokens.",
            },
        },
        "required": ["model"],
        "additionalProperties": False,
    },
    output_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "text": {"type": "string"},
            "finish_reason": {"type": ["string", "null"]},
            "usage": {
                "type": "object",
                "properties": {
                    "prompt_tokens": {"type": "integer"},
                    "completion_tokens": {"type": "integer"},
                    "total_tokens": {"type": "integer"},
                },
                "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
            },
        },
        "required": ["model", "text", "usage"],
    },
    run=_chat,
    read_only=False,
)

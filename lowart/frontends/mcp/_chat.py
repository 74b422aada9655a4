"""The `chat` tool: one model call through the Gateway, answer text plus usage.

Without a progress token the call is a plain completion. When the client asks
for progress, the tool streams from the Gateway instead and reports progress
every few chunks, so an agent (and its user) can see a long answer being
written; the result is the same either way.

`tools`, `tool_choice` and `response_format` are passed on as in OpenAI's
Chat Completions: a model that decides to call a tool answers with its
`tool_calls` (name and JSON arguments) for the agent to run.
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

_ARGUMENTS = (
    "model",
    "prompt",
    "messages",
    "system",
    "temperature",
    "max_tokens",
    "tools",
    "tool_choice",
    "response_format",
)
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
    for name in ("temperature", "max_tokens", "tool_choice"):
        if arguments.get(name) is not None:
            request[name] = arguments[name]
    tools = arguments.get("tools")
    if tools is not None:
        if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
            raise InvalidRequest("'tools' must be an array of tool objects.", param="tools")
        request["tools"] = tools
    response_format = arguments.get("response_format")
    if response_format is not None:
        if not isinstance(response_format, dict):
            raise InvalidRequest("'response_format' must be an object.", param="response_format")
        request["response_format"] = response_format
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
    caller.gateway.check_model(caller.principal, arguments)  # an unknown model first
    request = chat_request(arguments)
    ctx = caller.call_context()
    calls: list[dict[str, Any]]
    if caller.wants_progress:
        text, finish_reason, usage, model, calls = await _streamed(caller, request, ctx)
    else:
        response = await caller.gateway.complete(caller.principal, request, ctx)
        choice = (response.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        calls = [_call(c) for c in message.get("tool_calls") or () if isinstance(c, dict)]
        finish_reason = choice.get("finish_reason")
        usage, model = dict(response["usage"]), response["model"]
    structured: dict[str, Any] = {
        "model": model,
        "text": text,
        "finish_reason": finish_reason,
        "usage": {
            name: int(usage.get(name) or 0)
            for name in ("prompt_tokens", "completion_tokens", "total_tokens")
        },
    }
    if calls:
        structured["tool_calls"] = calls
        said = "; ".join(f"{c['name']}({c['arguments']})" for c in calls)
        text = f"{text}\n" if text else ""
        text += f"The model calls: {said}"
    return ToolOutput(text, structured)


def _call(call: dict[str, Any]) -> dict[str, Any]:
    """A tool call as the structured result shows it: id, name and JSON arguments."""
    function = call.get("function") or {}
    return {
        "id": str(call.get("id") or ""),
        "name": str(function.get("name") or ""),
        "arguments": str(function.get("arguments") or ""),
    }


async def _streamed(
    caller: Caller, request: dict[str, Any], ctx: CallContext
) -> tuple[str, str | None, dict[str, Any], str, list[dict[str, Any]]]:
    request = {**request, "stream": True, "stream_options": {"include_usage": True}}
    parts: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish_reason: str | None = None
    usage: dict[str, Any] = {}
    chunks = 0
    async with await caller.gateway.open_stream(caller.principal, request, ctx) as stream:
        async for chunk in stream:
            usage = dict(chunk.get("usage") or usage)
            for choice in chunk.get("choices") or ():
                if choice.get("index", 0) != 0:
                    continue  # the answer is the first choice, as without streaming
                delta = choice.get("delta") or {}
                _add_call_pieces(calls, delta.get("tool_calls"))
                content = delta.get("content")
                if content:
                    parts.append(content)
                    chunks += 1
                    if chunks % PROGRESS_EVERY == 0:
                        await caller.report_progress(chunks, None, f"{chunks} chunks received")
                finish_reason = choice.get("finish_reason") or finish_reason
        await caller.report_progress(chunks, chunks, "answer complete")
        found = [calls[i] for i in sorted(calls)]
        return "".join(parts), finish_reason, usage, stream.route.name, found


def _add_call_pieces(calls: dict[int, dict[str, Any]], pieces: Any) -> None:
    """Streamed tool-call fragments (id and name first, then argument pieces) into calls."""
    for piece in pieces or ():
        if not isinstance(piece, dict):
            continue
        call = calls.setdefault(
            int(piece.get("index") or 0), {"id": "", "name": "", "arguments": ""}
        )
        function = piece.get("function") or {}
        call["id"] += str(piece.get("id") or "")
        call["name"] += str(function.get("name") or "")
        call["arguments"] += str(function.get("arguments") or "")


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
            "tools": {
                "type": "array",
                "description": (
                    "Functions the model may call, as in OpenAI's Chat Completions: "
                    '{"type": "function", "function": {"name", "description", "parameters"}}. '
                    "A call comes back in the result's `tool_calls` for you to run."
                ),
                "items": {"type": "object"},
            },
            "tool_choice": {
                "description": "'auto', 'none', 'required' or {type: function, function: {name}}.",
            },
            "response_format": {
                "type": "object",
                "description": (
                    "{type: json_object} or {type: json_schema, json_schema: {name, schema}} "
                    "for a JSON answer."
                ),
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
            "tool_calls": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "arguments": {"type": "string"},
                    },
                    "required": ["id", "name", "arguments"],
                },
            },
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

"""A Responses API request (`POST /v1/responses`) as a canonical chat request.

The Responses API describes a conversation as typed items (messages, function
calls and their outputs, reasoning) and its tools with flat function
definitions, grouped in namespaces by some clients (Codex). The engine speaks
Chat Completions, so a request is translated once, here: items become
messages, tools become chat tools (a namespace's functions flattened to
`namespace__name`, a custom tool to a function taking one string), and the
`ToolNames` that come back say how to name a call in the reply. Hosted tools
(web search, file search, ...) cannot run on a translated route and are
left out, as OpenAI leaves out tools a model does not support. In a
conversation, an `mcp_call` lowart's tool loop ran becomes the call and its
result; the other MCP items (tool lists, approvals) say nothing to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from lowart.errors import InvalidRequest

__all__ = [
    "MAX_INPUT_ITEMS",
    "ToolNames",
    "responses_items",
    "responses_request_to_chat",
]

MAX_INPUT_ITEMS = 10_000
"""Most items one request (its input plus the stored conversation) may carry."""

_NAMESPACE_JOIN = "__"
_CUSTOM_INPUT = "input"
_FIELDS_KEPT = ("temperature", "top_p", "user", "service_tier")


@dataclass
class ToolNames:
    """How the chat tool names of one request map back to the Responses API's."""

    namespaced: dict[str, tuple[str, str]] = field(default_factory=dict)
    """flattened name -> (namespace, name)"""
    custom: set[str] = field(default_factory=set)
    """names of custom (free-form input) tools"""

    def function_item(self, call_id: str, chat_name: str, arguments: str) -> dict[str, Any]:
        """The output item for a chat tool call: a function call, or a custom tool call."""
        if chat_name in self.custom:
            return {
                "type": "custom_tool_call",
                "call_id": call_id,
                "name": chat_name,
                "input": _custom_input(arguments),
            }
        item: dict[str, Any] = {
            "type": "function_call",
            "call_id": call_id,
            "name": chat_name,
            "arguments": arguments,
        }
        if chat_name in self.namespaced:
            item["namespace"], item["name"] = self.namespaced[chat_name]
        return item


def _custom_input(arguments: str) -> str:
    try:
        parsed = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return arguments
    value = parsed.get(_CUSTOM_INPUT) if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else arguments


def responses_items(value: Any, param: str = "input") -> list[dict[str, Any]]:
    """The input as a list of items (a string is one user message), checked for shape."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise InvalidRequest(f"'{param}' must be a string or an array of items.", param=param)
    if len(value) > MAX_INPUT_ITEMS:
        raise InvalidRequest(f"'{param}' has more than {MAX_INPUT_ITEMS} items.", param=param)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidRequest(f"'{param}[{index}]' must be an object.", param=f"{param}")
    return value


def responses_request_to_chat(
    body: dict[str, Any], history: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], ToolNames]:
    """The canonical chat request for a Responses body; `history` holds the items of
    the conversation before it (a previous response's input and output)."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required and must be a string.", param="model")
    value = body.get("input")
    if value is None:
        raise InvalidRequest("'input' is required.", param="input")
    # The most common request, one question and nothing before it, is one user
    # message as is: no items to walk (what `_message` makes of it, directly).
    question = value if not history and type(value) is str else None
    items = [] if question is not None else [*(history or ()), *responses_items(value)]
    if len(items) > MAX_INPUT_ITEMS:
        raise InvalidRequest(
            f"The conversation has more than {MAX_INPUT_ITEMS} items.", param="input"
        )
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise InvalidRequest("'instructions' must be a string.", param="instructions")
        messages.append({"role": "system", "content": instructions})
    names = ToolNames()
    chat: dict[str, Any] = {"model": model}
    tools = _tools(body.get("tools"), names)
    if question is not None:
        messages.append({"role": "user", "content": question})
    for index, item in enumerate(items):
        _append_item(messages, item, f"input[{index}]", names)
    if not messages:
        raise InvalidRequest("'input' must hold at least one message.", param="input")
    chat["messages"] = messages
    if tools:
        chat["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), names)
        if choice is not None:
            chat["tool_choice"] = choice
        if body.get("parallel_tool_calls") is False:
            chat["parallel_tool_calls"] = False
    _copy_options(body, chat)
    return chat, names


def _copy_options(body: dict[str, Any], chat: dict[str, Any]) -> None:
    if body.get("stream") is not None:
        if not isinstance(body["stream"], bool):
            raise InvalidRequest("'stream' must be a boolean.", param="stream")
        chat["stream"] = body["stream"]
    limit = body.get("max_output_tokens")
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidRequest(
                "'max_output_tokens' must be a positive integer.", param="max_output_tokens"
            )
        chat["max_completion_tokens"] = limit
    for name in _FIELDS_KEPT:
        if body.get(name) is not None:
            chat[name] = body[name]
    reasoning = body.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, dict):
        raise InvalidRequest("'reasoning' must be an object.", param="reasoning")
    if reasoning and reasoning.get("effort"):
        chat["reasoning_effort"] = reasoning["effort"]
    text = body.get("text")
    if text is not None and not isinstance(text, dict):
        raise InvalidRequest("'text' must be an object.", param="text")
    response_format = _response_format((text or {}).get("format"))
    if response_format is not None:
        chat["response_format"] = response_format
    if text and text.get("verbosity"):
        chat["verbosity"] = text["verbosity"]


def _response_format(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("'text.format' must be an object.", param="text.format")
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        if not isinstance(value.get("schema"), dict):
            raise InvalidRequest(
                "'text.format.schema' must be a JSON Schema object.", param="text.format.schema"
            )
        schema = {"name": value.get("name") or "response", "schema": value["schema"]}
        for name in ("strict", "description"):
            if value.get(name) is not None:
                schema[name] = value[name]
        return {"type": "json_schema", "json_schema": schema}
    raise InvalidRequest(
        "'text.format.type' must be 'text', 'json_object' or 'json_schema'.",
        param="text.format.type",
    )


# ---- tools ------------------------------------------------------------------------------


def _tools(value: Any, names: ToolNames) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("'tools' must be an array.", param="tools")
    tools: list[dict[str, Any]] = []
    for index, tool in enumerate(value):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise InvalidRequest(
                f"'tools[{index}]' must be an object with a 'type'.", param=f"tools[{index}]"
            )
        kind = tool["type"]
        if kind == "function":
            tools.append(_function_tool(tool, f"tools[{index}]"))
        elif kind == "custom":
            tools.append(_custom_tool(tool, f"tools[{index}]", names))
        elif kind == "namespace":
            tools.extend(_namespace_tools(tool, f"tools[{index}]", names))
        # Hosted tools (web_search, file_search, code_interpreter, ...) need OpenAI's
        # servers; a translated route has none, so the model goes without. `mcp`
        # tools are lowart's tool loop's (lowart.toolruns), which offers them itself.
    return tools


def _tool_name(tool: dict[str, Any], param: str) -> str:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"'{param}.name' is required.", param=f"{param}.name")
    return name


def _function_tool(tool: dict[str, Any], param: str, name: str | None = None) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name or _tool_name(tool, param)}
    if tool.get("description"):
        function["description"] = tool["description"]
    parameters = tool.get("parameters")
    function["parameters"] = (
        parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}
    )
    if tool.get("strict") is not None:
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _custom_tool(tool: dict[str, Any], param: str, names: ToolNames) -> dict[str, Any]:
    name = _tool_name(tool, param)
    names.custom.add(name)
    function: dict[str, Any] = {
        "name": name,
        "parameters": {
            "type": "object",
            "properties": {_CUSTOM_INPUT: {"type": "string"}},
            "required": [_CUSTOM_INPUT],
        },
    }
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _namespace_tools(tool: dict[str, Any], param: str, names: ToolNames) -> list[dict[str, Any]]:
    namespace = _tool_name(tool, param)
    inner = tool.get("tools")
    if not isinstance(inner, list):
        raise InvalidRequest(f"'{param}.tools' must be an array.", param=f"{param}.tools")
    tools = []
    for index, member in enumerate(inner):
        member_param = f"{param}.tools[{index}]"
        if not isinstance(member, dict) or member.get("type") not in ("function", "custom"):
            continue  # only functions can be offered to a translated model
        name = _tool_name(member, member_param)
        flat = f"{namespace}{_NAMESPACE_JOIN}{name}"
        names.namespaced[flat] = (namespace, name)
        if member["type"] == "custom":
            names.custom.add(flat)
            tools.append({**_custom_tool({**member, "name": flat}, member_param, names)})
        else:
            tools.append(_function_tool(member, member_param, flat))
    return tools


def _tool_choice(value: Any, names: ToolNames) -> Any:
    if value is None or value in ("auto", "none", "required"):
        return value
    if not isinstance(value, dict):
        raise InvalidRequest(
            "'tool_choice' must be 'auto', 'none', 'required' or an object.", param="tool_choice"
        )
    kind = value.get("type")
    if kind in ("function", "custom") and isinstance(value.get("name"), str):
        name = value["name"]
        if value.get("namespace"):
            name = f"{value['namespace']}{_NAMESPACE_JOIN}{name}"
        return {"type": "function", "function": {"name": name}}
    if kind == "allowed_tools":
        return "required" if value.get("mode") == "required" else "auto"
    return "auto"  # a hosted tool was asked for: it is not offered here


# ---- items ------------------------------------------------------------------------------


def _append_item(
    messages: list[dict[str, Any]], item: dict[str, Any], param: str, names: ToolNames
) -> None:
    kind = item.get("type")
    if kind is None and "role" in item:
        kind = "message"
    if kind == "message":
        messages.append(_message(item, param))
    elif kind in ("function_call", "custom_tool_call"):
        _append_call(messages, item, param)
    elif kind in ("function_call_output", "custom_tool_call_output"):
        messages.append(
            {
                "role": "tool",
                "tool_call_id": _call_id(item, param),
                "content": _output_text(item.get("output"), param),
            }
        )
    elif kind == "mcp_call":
        _append_mcp_call(messages, item, param)
    elif kind in ("mcp_list_tools", "mcp_approval_request", "mcp_approval_response"):
        return  # lowart's tool loop keeps what these mean; the model needs only the calls
    elif kind in ("reasoning", "item_reference", "compaction"):
        return  # the model's own reasoning (often encrypted) is not sent on
    else:
        raise InvalidRequest(
            f"'{param}.type' {kind!r} is not supported on this gateway.", param=f"{param}.type"
        )


def _call_id(item: dict[str, Any], param: str) -> str:
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequest(f"'{param}.call_id' is required.", param=f"{param}.call_id")
    return call_id


def _append_call(messages: list[dict[str, Any]], item: dict[str, Any], param: str) -> None:
    """Consecutive calls are one assistant turn with several tool calls, as in chat."""
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"'{param}.name' is required.", param=f"{param}.name")
    if item.get("namespace"):
        name = f"{item['namespace']}{_NAMESPACE_JOIN}{name}"
    arguments: Any = item.get("arguments")
    if item.get("type") == "custom_tool_call":
        arguments = orjson.dumps({_CUSTOM_INPUT: str(item.get("input") or "")}).decode()
    elif not isinstance(arguments, str):
        raise InvalidRequest(f"'{param}.arguments' must be a string.", param=param)
    call = {
        "id": _call_id(item, param),
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }
    last = messages[-1] if messages else None
    if last is not None and last.get("role") == "assistant":  # its text, then its calls
        last.setdefault("tool_calls", []).append(call)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _append_mcp_call(messages: list[dict[str, Any]], item: dict[str, Any], param: str) -> None:
    """An MCP call lowart ran earlier: the call (`server__tool`, as the model knew it)
    and its output (or error) as the tool's answer."""
    call_id = str(item.get("id") or "")[:64] or f"{param}"
    name = f"{item.get('server_label')}{_NAMESPACE_JOIN}{item.get('name')}"
    arguments = item.get("arguments")
    _append_call(
        messages,
        {
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": arguments if isinstance(arguments, str) else "{}",
        },
        param,
    )
    output = item.get("output")
    if not isinstance(output, str):
        output = f"Error: {orjson.dumps(item.get('error')).decode()}"
    messages.append({"role": "tool", "tool_call_id": call_id, "content": output})


_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "developer"}


def _message(item: dict[str, Any], param: str) -> dict[str, Any]:
    role = _ROLES.get(item.get("role"))  # type: ignore[arg-type]
    if role is None:
        raise InvalidRequest(
            f"'{param}.role' must be one of user, assistant, system, developer.",
            param=f"{param}.role",
        )
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise InvalidRequest(
            f"'{param}.content' must be a string or an array of parts.", param=f"{param}.content"
        )
    parts = [_part(part, f"{param}.content[{i}]") for i, part in enumerate(content)]
    if role != "user" or all(p["type"] == "text" for p in parts):
        text = "".join(p.get("text", "") for p in parts if p["type"] == "text")
        return {"role": role, "content": text}
    return {"role": role, "content": parts}


def _part(part: Any, param: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise InvalidRequest(f"'{param}' must be an object.", param=param)
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text", "summary_text", "reasoning_text"):
        text = part.get("text")
        if not isinstance(text, str):
            raise InvalidRequest(f"'{param}.text' must be a string.", param=f"{param}.text")
        return {"type": "text", "text": text}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal") or "")}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise InvalidRequest(
                f"'{param}.image_url' is required (file ids are not supported).",
                param=f"{param}.image_url",
            )
        image: dict[str, Any] = {"url": url}
        if part.get("detail") in ("low", "high", "auto"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    raise InvalidRequest(
        f"'{param}.type' {kind!r} is not supported on this gateway.", param=f"{param}.type"
    )


def _output_text(output: Any, param: str) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
    raise InvalidRequest(f"'{param}.output' must be a string or an array.", param=f"{param}.output")

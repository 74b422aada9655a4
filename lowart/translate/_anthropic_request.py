"""Chat requests between the canonical (OpenAI) shape and Anthropic's Messages API.

OpenAI to Anthropic: a field either side can express is mapped; an OpenAI
parameter Anthropic cannot honour is rejected with a 400 naming it (never
dropped, so a reply is never silently different from what was asked); a field
this module does not know is passed on verbatim, so vendor extensions reach an
upstream that understands them and get that upstream's own 400 otherwise.

Anthropic to OpenAI (a /v1/messages caller on a translated route): the
Messages API's own fields are mapped where Chat Completions has an equivalent
and dropped otherwise (see `_anthropic_clients`), and so are server tools:
Anthropic routes get the caller's own body instead, with every field.
"""

from __future__ import annotations

import json
from typing import Any

from lowart.errors import InvalidRequest
from lowart.translate._anthropic_clients import chat_extras

__all__ = ["DEFAULT_MAX_TOKENS", "anthropic_request_to_openai", "openai_request_to_anthropic"]

# Anthropic requires max_tokens; OpenAI callers usually leave it out. 4096 fits
# every current Claude model's output limit; a route's `max_tokens` option overrides it.
DEFAULT_MAX_TOKENS = 4096

# Read by the translation below (or by the gateway itself), so never passed on verbatim.
_MAPPED = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "user",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "safety_identifier",
        # hints about OpenAI's own storage and cache: nothing to do with the reply
        "store",
        "metadata",
        "prompt_cache_key",
    }
)


def _is_set(value: Any) -> bool:
    return value is not None and value is not False and value != [] and value != {}


# OpenAI parameters Anthropic has no way to honour, with the value that is harmless.
_UNSUPPORTED: dict[str, Any] = {
    "n": lambda v: v not in (None, 1),
    "logprobs": _is_set,
    "top_logprobs": _is_set,
    "logit_bias": _is_set,
    "presence_penalty": lambda v: v not in (None, 0),
    "frequency_penalty": lambda v: v not in (None, 0),
    "seed": _is_set,
    "audio": _is_set,
    "modalities": lambda v: v not in (None, ["text"]),
    "prediction": _is_set,
    "response_format": lambda v: _is_set(v) and v.get("type") != "text",
    "functions": _is_set,
    "function_call": _is_set,
    "reasoning_effort": _is_set,
    "web_search_options": _is_set,
}


# --------------------------------------------------------------------------- #
# OpenAI -> Anthropic                                                          #
# --------------------------------------------------------------------------- #


def openai_request_to_anthropic(
    request: dict[str, Any], *, model: str, default_max_tokens: int = DEFAULT_MAX_TOKENS
) -> dict[str, Any]:
    """The Messages API body for a canonical chat request, sent as `model`."""
    for name, is_unsupported in _UNSUPPORTED.items():
        if name in request and is_unsupported(request[name]):
            raise InvalidRequest(
                f"'{name}' is not supported by Anthropic models; remove it.", param=name
            )
    system, messages = _messages_to_anthropic(request.get("messages") or [])
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": request.get("max_completion_tokens")
        or request.get("max_tokens")
        or default_max_tokens,
    }
    if system is not None:
        body["system"] = system
    for name in ("temperature", "top_p"):
        if request.get(name) is not None:
            body[name] = request[name]
    stop = request.get("stop")
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    user = request.get("user") or request.get("safety_identifier")
    if user:
        body["metadata"] = {"user_id": user}
    if request.get("tools"):
        body["tools"] = [_tool_to_anthropic(tool) for tool in request["tools"]]
    choice = _tool_choice_to_anthropic(
        request.get("tool_choice"), request.get("parallel_tool_calls")
    )
    if choice is not None:
        body["tool_choice"] = choice
    if request.get("stream"):
        body["stream"] = True
    for name, value in request.items():
        if name not in _MAPPED and name not in _UNSUPPORTED and value is not None:
            body[name] = value  # null means "not set": Anthropic would reject the name
    return body


def _messages_to_anthropic(
    messages: list[dict[str, Any]],
) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    system_strings: list[str] = []
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        param = f"messages[{index}]"
        if role in ("system", "developer"):
            content = message.get("content")
            if isinstance(content, str):
                system_strings.append(content)
            system.extend(_text_blocks(content, param))
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), param)
        elif role == "assistant":
            blocks = _assistant_blocks(message, param)
        elif role == "tool":
            role, blocks = "user", [_tool_result_block(message, param)]
        else:
            raise InvalidRequest(
                f"'{param}.role' {role!r} is not supported by Anthropic models; use tools.",
                param=f"{param}.role",
            )
        if blocks:
            _append_turn(out, role, blocks, message.get("content"))
    if not system:
        return None, out
    if len(system_strings) == 1 and len(system) == 1:
        return system_strings[0], out
    return system, out


def _append_turn(
    out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]], original: Any
) -> None:
    """Anthropic wants user and assistant turns to alternate: merge neighbours of one role."""
    if out and out[-1]["role"] == role:
        previous = out[-1]["content"]
        if isinstance(previous, str):
            previous = [{"type": "text", "text": previous}]
        out[-1]["content"] = previous + blocks
        return
    plain = isinstance(original, str) and len(blocks) == 1 and blocks[0].get("type") == "text"
    out.append({"role": role, "content": original if plain else blocks})


def _text_blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks = []
    for part in content:
        if part.get("type") not in ("text", "refusal"):
            raise InvalidRequest(
                f"'{param}.content' may only hold text parts here.", param=f"{param}.content"
            )
        text = part.get("text") if part.get("type") == "text" else part.get("refusal")
        if text:
            blocks.append(_with_cache_control({"type": "text", "text": text}, part))
    return blocks


def _with_cache_control(block: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Keep Anthropic's prompt-caching marker when an OpenAI client sent one."""
    if "cache_control" in part:
        block["cache_control"] = part["cache_control"]
    return block


def _user_blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return _text_blocks(content, param)
    blocks = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                blocks.append(_with_cache_control({"type": "text", "text": part["text"]}, part))
        elif kind == "image_url":
            blocks.append(_with_cache_control(_image_block(part, param), part))
        elif kind in ("input_audio", "file"):
            raise InvalidRequest(
                f"'{param}.content' holds a '{kind}' part, which Anthropic models do not accept.",
                param=f"{param}.content",
            )
        else:  # already an Anthropic block (document, image with source, ...)
            blocks.append(part)
    return blocks


def _image_block(part: dict[str, Any], param: str) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequest(f"An image part in '{param}' has no url.", param=f"{param}.content")
    if url.startswith("data:"):
        header, _, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if encoding != "base64" or not data:
            raise InvalidRequest(
                f"An image data URL in '{param}' must be base64 encoded.", param=f"{param}.content"
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    return {"type": "image", "source": {"type": "url", "url": url}}


def _assistant_blocks(message: dict[str, Any], param: str) -> list[dict[str, Any]]:
    blocks = _text_blocks(message.get("content"), param)
    for position, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        arguments = function.get("arguments") or "{}"
        try:
            arguments_value = json.loads(arguments)
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(
                f"'{param}.tool_calls[{position}].function.arguments' is not valid JSON.",
                param=f"{param}.tool_calls",
            ) from exc
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": arguments_value,
            }
        )
    return blocks


def _tool_result_block(message: dict[str, Any], param: str) -> dict[str, Any]:
    tool_use_id = message.get("tool_call_id")
    if not tool_use_id:
        raise InvalidRequest(f"'{param}.tool_call_id' is required.", param=f"{param}.tool_call_id")
    content = message.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id}
    if isinstance(content, str):
        block["content"] = content
    elif content:
        block["content"] = _user_blocks(content, param)
    return block


def _tool_to_anthropic(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        return tool  # an Anthropic server tool, passed on as given
    function = tool.get("function") or {}
    out: dict[str, Any] = {"name": function.get("name")}
    if function.get("description"):
        out["description"] = function["description"]
    out["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    return _with_cache_control(out, tool)


def _tool_choice_to_anthropic(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice is None:
        out = None if parallel is not False else {"type": "auto"}
    elif choice == "auto":
        out = {"type": "auto"}
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        out = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    else:
        raise InvalidRequest(
            "'tool_choice' must be 'auto', 'none', 'required' or a named function.",
            param="tool_choice",
        )
    if out is not None and parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


# --------------------------------------------------------------------------- #
# Anthropic -> OpenAI                                                          #
# --------------------------------------------------------------------------- #


def anthropic_request_to_openai(body: Any, *, require_max_tokens: bool = True) -> dict[str, Any]:
    """The canonical request for a Messages API body (what `/v1/messages` receives)."""
    _check_anthropic_body(body, require_max_tokens)
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": _system_to_openai(system)})
    for index, message in enumerate(body["messages"]):
        messages.extend(_message_to_openai(message, f"messages[{index}]"))
    out: dict[str, Any] = {"model": body["model"], "messages": messages}
    if body.get("max_tokens") is not None:
        out["max_tokens"] = body["max_tokens"]
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = list(body["stop_sequences"])
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("user_id"):
        out["user"] = metadata["user_id"]
    if body.get("stream"):
        out["stream"] = True
    tools = [_tool_to_openai(tool) for tool in body.get("tools") or ()]
    if any(tools):  # server tools are dropped: only an Anthropic upstream can run them
        out["tools"] = [tool for tool in tools if tool is not None]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and (not tools or "tools" in out):  # not if all were dropped
        kind = choice.get("type")
        if kind == "tool":
            out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif kind in ("auto", "any", "none"):
            out["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[kind]
        else:
            raise InvalidRequest(
                "tool_choice.type must be one of auto, any, tool, none.", param="tool_choice"
            )
        if choice.get("disable_parallel_tool_use"):
            out["parallel_tool_calls"] = False
    # The Messages API's other fields mean nothing to a Chat Completions upstream: mapped
    # where an equivalent exists, else dropped (Anthropic routes get the client's own body).
    out.update(chat_extras(body))
    return out


def _check_anthropic_body(body: Any, require_max_tokens: bool) -> None:
    """Anthropic's own checks on the shape, so its clients get the errors they expect."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidRequest("model: Field required", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: must be a non-empty array", param="messages")
    max_tokens = body.get("max_tokens")
    if max_tokens is None and require_max_tokens:
        raise InvalidRequest("max_tokens: Field required", param="max_tokens")
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        raise InvalidRequest("max_tokens: must be a positive integer", param="max_tokens")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InvalidRequest(
                f"messages.{index}.role: must be 'user' or 'assistant'", param="messages"
            )
        content = message.get("content")
        if isinstance(content, list):
            if not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in content):
                raise InvalidRequest(
                    f"messages.{index}.content: each block needs a 'type'", param="messages"
                )
        elif not isinstance(content, str):
            raise InvalidRequest(
                f"messages.{index}.content: must be a string or an array of blocks",
                param="messages",
            )


def _system_to_openai(system: Any) -> str | list[dict[str, Any]]:
    if isinstance(system, str):
        return system
    if not isinstance(system, list):
        raise InvalidRequest("system: must be a string or an array of text blocks", param="system")
    return [_text_part(block) for block in system if isinstance(block, dict)]


def _text_part(block: dict[str, Any]) -> dict[str, Any]:
    """A text block as an OpenAI part; `cache_control` (a hint OpenAI rejects) is left out."""
    return {"type": "text", "text": block.get("text", "")}


def _message_to_openai(message: dict[str, Any], param: str) -> list[dict[str, Any]]:
    content = message["content"]
    if message["role"] == "assistant":
        return [_assistant_to_openai(content)]
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content:
        if block["type"] == "tool_result":
            out.append(_tool_result_to_openai(block, param))
        else:
            parts.append(_part_to_openai(block))
    if parts:
        out.append({"role": "user", "content": parts})
    return out


def _part_to_openai(block: dict[str, Any]) -> dict[str, Any]:
    kind = block["type"]
    if kind == "text":
        return _text_part(block)
    if kind == "image":
        source = block.get("source")
        if not isinstance(source, dict) or not isinstance(source.get("type"), str):
            raise InvalidRequest(
                "messages: image.source: must be an object with a 'type' ('base64' or 'url')",
                param="messages",
            )
        if source.get("type") == "base64":
            url = f"data:{source.get('media_type')};base64,{source.get('data')}"
            return {"type": "image_url", "image_url": {"url": url}}
        if source.get("type") == "url":
            return {"type": "image_url", "image_url": {"url": source.get("url")}}
    return block  # documents and other blocks: only an upstream that knows them can judge


def _tool_result_to_openai(block: dict[str, Any], param: str) -> dict[str, Any]:
    if not block.get("tool_use_id"):
        raise InvalidRequest(f"{param}: tool_result.tool_use_id: Field required", param="messages")
    content = block.get("content")
    if isinstance(content, list):
        content = [_part_to_openai(part) for part in content if isinstance(part, dict)]
    return {"role": "tool", "tool_call_id": block["tool_use_id"], "content": content or ""}


def _assistant_to_openai(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        if block["type"] == "text":
            texts.append(block.get("text", ""))
        elif block["type"] == "tool_use":
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
        # thinking blocks only matter to the Anthropic upstream that signed them
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tool_to_openai(tool: Any) -> dict[str, Any] | None:
    if not isinstance(tool, dict) or not tool.get("name"):
        raise InvalidRequest("tools: each tool needs a 'name'", param="tools")
    if tool.get("type") not in (None, "custom"):
        return None  # an Anthropic server tool: only an Anthropic upstream can run it
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = tool.get("input_schema") or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}

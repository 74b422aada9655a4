"""What the mock model answers: text, one tool call, or JSON, for each of `n` choices.

It behaves like a real chat model so clients can be tested against lowart alone,
and always the same way for the same request:

- a turn that ends with the user's words, when `tools` are given: one call of
  one tool with arguments that satisfy its JSON schema, `finish_reason`
  "tool_calls". Which tool: the one `tool_choice` names; else the first tool
  the user's text names (its last text part first); else, with `tool_choice`
  "required", the first tool. With "auto" (the default) and no tool named, the
  mock answers in text, as a model would when no tool is called for (an agent
  such as Claude Code would otherwise run its first tool on every prompt);
  "none" never calls one;
- a turn that ends with tool results: a text answer quoting them;
- `response_format` json_object / json_schema: JSON content (that satisfies the schema);
- otherwise "You said: ..." (or the route's `reply` option), cut at `max_tokens` words.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from lowart.adapters._mock_values import SchemaValues
from lowart.errors import InvalidRequest
from lowart.types import Route

__all__ = ["MAX_CHOICES", "Answer", "answers", "words_of"]

MAX_CHOICES = 8
"""The largest `n` the mock model answers (more: 400)."""
_TEXT_CAP = 20_000  # characters of the caller's text looked at
_QUOTE_CAP = 400  # characters of the caller's text (or a tool result) quoted back
_JSON_SCAN = 64  # '{' positions tried when looking for spelled-out arguments
_WORDS = re.compile(r"\S+\s*")


@dataclass(frozen=True, slots=True)
class Answer:
    """One choice: text `content`, or one `tool_call` (OpenAI's shape), and why it ended."""

    content: str | None
    tool_call: dict[str, Any] | None
    finish_reason: str


def words_of(text: str) -> list[str]:
    """Text as the words the mock streams (each with its trailing space)."""
    return _WORDS.findall(text)


def answers(route: Route, request: dict[str, Any]) -> list[Answer]:
    """The `n` choices for a (transformed) chat payload; raises InvalidRequest (400)."""
    count = _choice_count(request.get("n"))
    messages = [m for m in request.get("messages") or () if isinstance(m, dict)]
    results = _tool_results(messages)
    user_parts = _last_user_parts(messages)
    tool = None if results is not None else _chosen_tool(request, user_parts)
    if tool is not None:
        name, schema = tool
        text = _own_words(user_parts)
        arguments = SchemaValues(text, _spelled_out(user_parts, schema)).value(schema)
        encoded = json.dumps(arguments, ensure_ascii=False)
        return [
            Answer(None, _tool_call(name, encoded, len(messages), index), "tool_calls")
            for index in range(count)
        ]
    content, finish = _content(route, request, user_parts, results)
    return [Answer(content, None, finish) for _ in range(count)]


def _choice_count(n: Any) -> int:
    if n is None:
        return 1
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InvalidRequest("'n' must be a positive integer.", param="n")
    if n > MAX_CHOICES:
        raise InvalidRequest(
            f"'n' is {n}; the mock model answers at most {MAX_CHOICES} choices.", param="n"
        )
    return n


# ---- the conversation ---------------------------------------------------------------


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text" and p.get("text")
        ]
    return []


def _tool_results(messages: list[dict[str, Any]]) -> list[str] | None:
    """The tool results given since the model's last turn, or None when there are none
    (a client may add a user message after them, as Claude Code does)."""
    found: list[str] | None = None
    for message in reversed(messages):
        role = message.get("role")
        if role == "assistant":
            break
        if role in ("tool", "function"):
            found = (found or []) + [" ".join(_texts(message.get("content")))]
    return None if found is None else list(reversed(found))


def _last_user_parts(messages: list[dict[str, Any]]) -> list[str]:
    """The text parts of the user's last message, when no model turn came after it."""
    for message in reversed(messages):
        role = message.get("role")
        if role == "user":
            parts: list[str] = []
            size = 0
            for text in _texts(message.get("content")):
                parts.append(text[: _TEXT_CAP - size])
                size += len(parts[-1])
                if size >= _TEXT_CAP:
                    break
            return parts
        if role == "assistant":
            return []
    return []


# ---- tool calls ---------------------------------------------------------------------


def _function_tools(request: dict[str, Any]) -> dict[str, Any]:
    """Function tools by name, with their parameter schemas (other tool types are not
    the mock's to run)."""
    tools: dict[str, Any] = {}
    for tool in request.get("tools") or ():
        if isinstance(tool, dict) and tool.get("type") == "function":
            function = tool.get("function")
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                parameters = function.get("parameters")
                tools.setdefault(
                    function["name"],
                    parameters
                    if isinstance(parameters, dict)
                    else {"type": "object", "properties": {}},
                )
    return tools


def _chosen_tool(request: dict[str, Any], user_parts: list[str]) -> tuple[str, Any] | None:
    tools = _function_tools(request)
    choice = request.get("tool_choice")
    if not tools or choice == "none" or not user_parts:
        return None
    if isinstance(choice, dict) and choice.get("type") == "function":
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if name not in tools:
            raise InvalidRequest(
                f"'tool_choice' names the function {name!r}, which is not among 'tools'.",
                param="tool_choice",
            )
        return name, tools[name]
    if choice not in (None, "auto", "required"):
        raise InvalidRequest(
            "'tool_choice' must be 'none', 'auto', 'required' or a named function.",
            param="tool_choice",
        )
    named = _named_tool(tools, user_parts)
    if named is None and choice == "required":
        named = next(iter(tools))
    if named is None:  # "auto": the mock decides to call only the tool the user names
        return None
    return named, tools[named]


def _named_tool(tools: dict[str, Any], user_parts: list[str]) -> str | None:
    """The tool the user names (its last text part first: earlier ones are often
    context a client adds), earliest mention first."""
    for text in reversed(user_parts):
        best: tuple[int, str] | None = None
        for name in tools:
            match = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), name)
        if best is not None:
            return best[1]
    return None


def _spelled_out(user_parts: list[str], schema: Any) -> dict[str, Any]:
    """Argument values the user wrote out as a JSON object (say '{"city": "Paris"}'),
    the first such object whose names the schema knows."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        return {}
    decoder = json.JSONDecoder()
    tried = 0
    for text in reversed(user_parts):
        start = text.find("{")
        while start != -1 and tried < _JSON_SCAN:
            tried += 1
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                value = None
            if isinstance(value, dict) and any(k in properties for k in value):
                return {k: v for k, v in value.items() if k in properties}
            start = text.find("{", start + 1)
    return {}


def _tool_call(name: str, arguments: str, turn: int, index: int) -> dict[str, Any]:
    digest = hashlib.sha256(f"{name}\0{arguments}\0{turn}\0{index}".encode()).hexdigest()
    return {
        "id": f"call_{digest[:24]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


# ---- text and JSON ------------------------------------------------------------------


def _own_words(user_parts: list[str]) -> str:
    """The user's own words: the last text part (clients such as Claude Code put context
    of their own, like `<system-reminder>` blocks, in the parts before it)."""
    return user_parts[-1] if user_parts else ""


def _squashed(text: str) -> str:
    return " ".join(text[:_TEXT_CAP].split())[:_QUOTE_CAP]


def _content(
    route: Route, request: dict[str, Any], user_parts: list[str], results: list[str] | None
) -> tuple[str, str]:
    said = _squashed(_own_words(user_parts))
    fmt = request.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    if kind in ("json_object", "json_schema"):
        assert isinstance(fmt, dict)
        return _json_content(fmt, kind, said, user_parts), "stop"
    if kind not in (None, "text"):
        raise InvalidRequest(
            "'response_format.type' must be 'text', 'json_object' or 'json_schema'.",
            param="response_format",
        )
    text = route.options.get("reply")
    if not text:
        if results is not None:
            quoted = _squashed(" ".join(results))
            text = f"This is the lowart mock model. The tool returned: {quoted}"
        elif said:
            text = f"This is the lowart mock model. You said: {said}"
        else:
            text = "This is the lowart mock model."
    words = words_of(text)
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    if isinstance(limit, int) and 0 < limit < len(words):
        return "".join(words[:limit]), "length"
    return "".join(words), "stop"


def _json_content(fmt: dict[str, Any], kind: str, said: str, user_parts: list[str]) -> str:
    if kind == "json_object":
        return json.dumps({"reply": f"This is the lowart mock model. You said: {said}"})
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        raise InvalidRequest(
            "'response_format.json_schema' must be an object with a 'schema'.",
            param="response_format.json_schema",
        )
    schema = spec.get("schema", {})
    value = SchemaValues(_own_words(user_parts), _spelled_out(user_parts, schema)).value(schema)
    return json.dumps(value, ensure_ascii=False)

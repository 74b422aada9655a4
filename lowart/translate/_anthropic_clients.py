"""Messages API bodies as real Anthropic clients send them, made fit for any route.

Two things clients such as Claude Code do that the canonical translation must
absorb:

- `role: "system"` messages inside `messages` (sent with the
  `mid-conversation-system` beta for model names the client does not know).
  `fold_system_messages` moves them into the `system` prompt, in order, for
  every route: Anthropic's own API refuses them without the beta;
- Messages API fields with no Chat Completions meaning (`thinking`,
  `context_management`, `output_config`, `betas`, `container`, `mcp_servers`,
  `service_tier`, `top_k`, ...). A translated (OpenAI-vendor) upstream must never
  see them: `chat_extras` maps those with an equivalent (`thinking.budget_tokens`
  and `output_config.effort` to `reasoning_effort`, `output_config.format` to
  `response_format`) and drops the rest. Anthropic routes get the client's own
  body (the passthrough), so they keep every field.
"""

from __future__ import annotations

from typing import Any

from lowart.errors import InvalidRequest

__all__ = ["chat_extras", "fold_system_messages"]

# thinking.budget_tokens below these is low, then medium; the rest is high effort.
_LOW_BUDGET, _MEDIUM_BUDGET = 4096, 16384
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "high"}


def fold_system_messages(body: Any) -> Any:
    """The body with its `role: "system"` messages moved into `system`, in order
    (unchanged when it has none)."""
    if not isinstance(body, dict):
        return body
    messages = body.get("messages")
    if not isinstance(messages, list) or not any(_is_system(m) for m in messages):
        return body
    parts: list[Any] = [body["system"]] if body.get("system") else []
    kept = []
    for index, message in enumerate(messages):
        if _is_system(message):
            content = message.get("content")
            if not isinstance(content, str | list):
                raise InvalidRequest(
                    f"messages.{index}.content: must be a string or an array of text blocks",
                    param="messages",
                )
            if content:
                parts.append(content)
        else:
            kept.append(message)
    folded = {**body, "messages": kept}
    if all(isinstance(part, str) for part in parts):
        folded["system"] = "\n\n".join(parts)
    else:
        folded["system"] = [block for part in parts for block in _blocks(part)]
    if not parts:
        folded.pop("system", None)
    return folded


def _is_system(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") == "system"


def _blocks(part: Any) -> list[Any]:
    if isinstance(part, str):
        return [{"type": "text", "text": part}]
    return [block for block in part if isinstance(block, dict)]


def chat_extras(body: dict[str, Any]) -> dict[str, Any]:
    """Chat Completions fields for the Messages API fields that have one; nothing else
    of the Messages API's own fields (the caller drops those)."""
    out: dict[str, Any] = {}
    effort = _effort(body.get("thinking"), body.get("output_config"))
    if effort is not None:
        out["reasoning_effort"] = effort
    response_format = _response_format(body.get("output_config"), body.get("output_format"))
    if response_format is not None:
        out["response_format"] = response_format
    return out


def _effort(thinking: Any, output_config: Any) -> str | None:
    if isinstance(output_config, dict) and output_config.get("effort") in _EFFORTS:
        return _EFFORTS[output_config["effort"]]
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return None
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        return None
    return "low" if budget < _LOW_BUDGET else "medium" if budget < _MEDIUM_BUDGET else "high"


def _response_format(output_config: Any, output_format: Any) -> dict[str, Any] | None:
    fmt = output_config.get("format") if isinstance(output_config, dict) else None
    fmt = fmt if fmt is not None else output_format
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        return None
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}

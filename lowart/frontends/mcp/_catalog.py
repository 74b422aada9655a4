"""What a key may use and what it has used: `list_models`, `usage` and their resources.

The tool and the resource of the same name return the same document, built
here once from the Gateway's view (`models_for`) and the usage rollups.
"""

from __future__ import annotations

from typing import Any

from lowart.frontends.mcp._arguments import optional_string, reject_unknown
from lowart.frontends.mcp._spec import Caller, ResourceSpec, ToolOutput, ToolSpec

__all__ = ["LIST_MODELS", "MODELS_RESOURCE", "USAGE", "USAGE_RESOURCE"]

_COUNTERS = ("requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens")


async def models_document(caller: Caller) -> dict[str, Any]:
    gateway = caller.gateway
    routes = gateway.models_for(caller.principal)
    return {
        "models": [
            {"name": r.name, "vendor": r.vendor, "kind": gateway.model_kind(r)}
            for r in sorted(routes, key=lambda r: r.name)
        ]
    }


async def usage_document(caller: Caller, since: str | None = None) -> dict[str, Any]:
    """The calling key's own totals; never another key's."""
    rows = await caller.admin.usage_daily(by="model", since=since, key_id=caller.principal.key_id)
    by_model = [
        {
            "model": row["route"],
            **{name: row[name] for name in _COUNTERS},
            "avg_latency_ms": row["avg_latency_ms"],
        }
        for row in rows
    ]
    totals = {n: sum(row[n] for row in by_model) for n in _COUNTERS}
    return {
        "key": caller.principal.name,
        "since": since,
        "quota_tokens": caller.principal.quota_tokens,
        "totals": totals,
        "by_model": by_model,
    }


def _models_text(document: dict[str, Any]) -> str:
    if not document["models"]:
        return "This key may not use any model."
    lines = [f"- {m['name']} ({m['kind']}, vendor {m['vendor']})" for m in document["models"]]
    return "Models this key may use:\n" + "\n".join(lines)


def _usage_text(document: dict[str, Any]) -> str:
    t = document["totals"]
    text = (
        f"Key '{document['key']}': {t['requests']} requests ({t['errors']} failed), "
        f"{t['total_tokens']} tokens ({t['prompt_tokens']} prompt, "
        f"{t['completion_tokens']} completion)"
    )
    if document["since"]:
        text += f" since {document['since']}"
    if document["quota_tokens"] is not None:
        text += f"; quota {document['quota_tokens']} tokens"
    lines = [
        f"- {m['model']}: {m['requests']} requests, {m['total_tokens']} tokens"
        for m in document["by_model"]
    ]
    return text + "." + ("\n" + "\n".join(lines) if lines else "")


async def _list_models(caller: Caller, _arguments: dict[str, Any]) -> ToolOutput:
    document = await models_document(caller)
    return ToolOutput(_models_text(document), document)


async def _usage(caller: Caller, arguments: dict[str, Any]) -> ToolOutput:
    reject_unknown(arguments, ("since",))
    document = await usage_document(caller, optional_string(arguments, "since"))
    return ToolOutput(_usage_text(document), document)


_COUNTER_SCHEMA = {name: {"type": "integer"} for name in _COUNTERS}

LIST_MODELS = ToolSpec(
    name="list_models",
    title="List models",
    description=(
        "List the models this API key may use. Each has a name (pass it as `model` to the "
        "`chat` tool), the vendor serving it and its kind: `chat` for text conversations, "
        "`embedding` for embeddings (not served over MCP), `image` for image generation."
    ),
    input_schema={"type": "object", "properties": {}, "additionalProperties": False},
    output_schema={
        "type": "object",
        "properties": {
            "models": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "vendor": {"type": "string"},
                        "kind": {"type": "string", "enum": ["chat", "embedding", "image"]},
                    },
                    "required": ["name", "vendor", "kind"],
                },
            }
        },
        "required": ["models"],
    },
    run=_list_models,
)

USAGE = ToolSpec(
    name="usage",
    title="Usage of this key",
    description=(
        "Show how much this API key has used: requests, failures and tokens, in total and "
        "per model, and its token quota if it has one. Optionally only since a date."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "since": {
                "type": "string",
                "description": "Count usage from this day on: YYYY-MM-DD, or relative like 7d.",
            }
        },
        "additionalProperties": False,
    },
    output_schema={
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "since": {"type": ["string", "null"]},
            "quota_tokens": {"type": ["integer", "null"]},
            "totals": {
                "type": "object",
                "properties": _COUNTER_SCHEMA,
                "required": list(_COUNTERS),
            },
            "by_model": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "model": {"type": "string"},
                        **_COUNTER_SCHEMA,
                        "avg_latency_ms": {"type": "number"},
                    },
                    "required": ["model", *_COUNTERS],
                },
            },
        },
        "required": ["key", "totals", "by_model"],
    },
    run=_usage,
)

MODELS_RESOURCE = ResourceSpec(
    uri="lowart://models",
    name="models",
    title="Models",
    description="The models this API key may use, with vendor and kind (chat or image).",
    read=models_document,
)

USAGE_RESOURCE = ResourceSpec(
    uri="lowart://usage",
    name="usage",
    title="Usage",
    description="This API key's usage: requests, failures and tokens, in total and per model.",
    read=usage_document,
)

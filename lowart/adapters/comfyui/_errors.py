"""ComfyUI's failures in the gateway's vocabulary, with messages a caller can act on.

ComfyUI answers a bad workflow with 400 and a nested `node_errors` map, and
reports runtime failures as `execution_error` messages; both are flattened here
into one sentence that names the node, its class and what was wrong.
"""

from __future__ import annotations

from typing import Any

import orjson

from lowart.adapters.base import upstream_text
from lowart.errors import UpstreamError
from lowart.types import Route

__all__ = [
    "PromptInterrupted",
    "PromptLost",
    "execution_failure",
    "rejected_prompt",
]


class PromptInterrupted(UpstreamError):
    """ComfyUI stopped the prompt (POST /interrupt, by us or by someone else)."""

    default_code = "generation_interrupted"


class PromptLost(UpstreamError):
    """ComfyUI no longer knows the prompt: the server restarted and its history is gone."""

    default_code = "generation_lost"


def _node_error_text(node_id: str, entry: dict[str, Any]) -> str:
    problems = []
    for error in entry.get("errors") or ():
        message = str(error.get("message") or error.get("type") or "invalid")
        details = error.get("details")
        problems.append(f"{message} ({details})" if details else message)
    kind = entry.get("class_type") or "?"
    return f"node {node_id} ({kind}): {'; '.join(problems) or 'invalid'}"


def rejected_prompt(route: Route, status: int, body: bytes) -> UpstreamError:
    """POST /prompt failed: a 400 is the workflow's fault (passed on as 400), else 502."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        return UpstreamError(
            f"ComfyUI for model '{route.name}' failed to accept the prompt (HTTP {status}).",
            upstream_status=status if status != 400 else 502,
        )
    error = parsed.get("error")
    message = error.get("message") if isinstance(error, dict) else str(error or "")
    details = error.get("details") if isinstance(error, dict) else ""
    parts = [str(message or "the workflow is invalid").rstrip(".")]
    node_errors = parsed.get("node_errors")
    if isinstance(node_errors, dict) and node_errors:
        parts.append("; ".join(_node_error_text(n, e) for n, e in sorted(node_errors.items())))
    elif details:
        parts.append(str(details))
    return UpstreamError(
        f"ComfyUI rejected the workflow of model '{route.name}': "
        f"{upstream_text(route, ': '.join(parts))}.",
        upstream_status=status,
        code="workflow_invalid",
    )


def execution_failure(route: Route, messages: list[Any]) -> UpstreamError:
    """A finished prompt whose status is `error`: say which node failed and why."""
    for kind, data in reversed(messages or []):
        if not isinstance(data, dict):
            continue
        node = upstream_text(route, f"node {data.get('node_id')} ({data.get('node_type')})")
        if kind == "execution_interrupted":
            return PromptInterrupted(
                f"ComfyUI interrupted the generation for model '{route.name}' at {node}."
            )
        if kind == "execution_error":
            reason = upstream_text(
                route, f"{data.get('exception_type', 'Error')}: {data.get('exception_message', '')}"
            )
            return UpstreamError(
                f"ComfyUI failed at {node} for model '{route.name}': {reason.strip()}",
                code="execution_error",
            )
    return UpstreamError(f"ComfyUI reported an error for model '{route.name}'.")

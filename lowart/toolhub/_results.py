"""Upstream tool results, bounded and scrubbed: they are untrusted input.

A result larger than the server's cap becomes an error outcome as a whole
(never a truncated half of a JSON document). The server's own configured
secrets (header and environment values) are replaced wherever they appear in
the text a caller or a log gets, since an upstream may echo what it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from lowart.adapters import redact
from lowart.toolhub._types import ToolOutcome

if TYPE_CHECKING:
    import mcp_types as types

__all__ = ["failure", "outcome_of", "scrub"]

_REDACTED = "[redacted]"
_ERROR_CHARS = 300


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` without the exact configured secret values (cheap; for results)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def short_error(text: str, secrets: Sequence[str]) -> str:
    """An upstream error message fit for a caller and a log: scrubbed, one line, short."""
    cleaned = redact(" ".join(text.split()), secrets)
    return cleaned[:_ERROR_CHARS]


def failure(outcome: str, error: str, duration_ms: float, result_bytes: int = 0) -> ToolOutcome:
    """A call that produced no usable result (timeout, too large, unavailable, failed)."""
    return ToolOutcome(
        content=[{"type": "text", "text": error}],
        text=error,
        is_error=True,
        error=error,
        duration_ms=duration_ms,
        result_bytes=result_bytes,
        outcome=outcome,
    )


def outcome_of(
    result: types.CallToolResult, cap: int, secrets: Sequence[str], duration_ms: float
) -> ToolOutcome:
    document = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    size = len(orjson.dumps(document))
    if size > cap:
        return failure(
            "too_large", f"tool result too large ({size} bytes, limit {cap})", duration_ms, size
        )
    content = [_scrubbed_block(block, secrets) for block in document.get("content") or []]
    texts = [block["text"] for block in content if block.get("type") == "text"]
    structured = document.get("structuredContent")
    if structured is not None and not texts:
        texts.append(scrub(orjson.dumps(structured).decode(), secrets))
    text = "\n".join(texts)
    is_error = bool(result.is_error)
    if is_error:
        text = short_error(text, secrets) if text else "the tool reported an error"
    return ToolOutcome(
        content=content,
        text=text,
        is_error=is_error,
        error=None,
        duration_ms=duration_ms,
        result_bytes=size,
        outcome="error" if is_error else "ok",
    )


def _scrubbed_block(block: dict[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
    if block.get("type") == "text" and isinstance(block.get("text"), str):
        return {**block, "text": scrub(block["text"], secrets)}
    return block

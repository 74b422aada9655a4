"""Sample payloads a script is dry-run against before it is accepted.

Several stream events, because the usual mistake is a `chunk` function that
assumes every event has a choice with content (the role event and the final
usage event do not).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SAMPLE_CONTEXT", "sample_payloads"]

SAMPLE_CONTEXT = {
    "route": "dry-run",
    "vendor": "openai",
    "upstream_model": "sample-model",
    "interface": "http",
    "key_name": "dry-run",
    "request_id": "req-dry-run",
}


def sample_payloads(phase: str) -> list[dict[str, Any]]:
    """Fresh copies each time: a dry run may change what it is given."""
    base = {"id": "chatcmpl-sample", "created": 1700000000, "model": "sample-model"}
    if phase == "request":
        return [
            {
                "model": "sample-model",
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "Hello"},
                ],
                "max_tokens": 16,
                "temperature": 0.5,
            }
        ]
    if phase == "response":
        return [
            {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hi there.", "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
            }
        ]
    chunk = {**base, "object": "chat.completion.chunk"}

    def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**chunk, "choices": [choice], "usage": None}

    return [
        event({"role": "assistant", "content": ""}),
        event({"content": "Hi"}),
        event({}, "stop"),
        {
            **chunk,
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
        },
    ]

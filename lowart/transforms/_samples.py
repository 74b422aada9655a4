"""Sample payloads a script is dry-run against before it is accepted.

Several stream events, because the usual mistake is a `chunk` function that
assumes every event has a choice with content (the role event and the final
usage event do not). The samples are in the route's vendor format, since that
is what its script will see: OpenAI's shape for openai and mock routes, the
Messages API's for anthropic routes, a /prompt submission for comfyui routes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SAMPLE_CONTEXT", "sample_context", "sample_payloads"]

SAMPLE_CONTEXT = {
    "route": "dry-run",
    "vendor": "openai",
    "upstream_model": "sample-model",
    "interface": "http",
    "key_name": "dry-run",
    "request_id": "req-dry-run",
}


def sample_context(vendor: str = "openai") -> dict[str, Any]:
    return {**SAMPLE_CONTEXT, "vendor": vendor}


def sample_payloads(phase: str, vendor: str = "openai") -> list[dict[str, Any]]:
    """Fresh copies each time: a dry run may change what it is given."""
    if vendor == "anthropic":
        return _anthropic(phase)
    if vendor == "comfyui":
        return _comfyui(phase)
    return _openai(phase)


def _openai(phase: str) -> list[dict[str, Any]]:
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


def _anthropic(phase: str) -> list[dict[str, Any]]:
    """The Messages API: a request, a reply, and every kind of stream event."""
    if phase == "request":
        return [
            {
                "model": "sample-model",
                "max_tokens": 16,
                "system": "You are a helpful assistant.",
                "messages": [{"role": "user", "content": "Hello"}],
                "temperature": 0.5,
            }
        ]
    message = {
        "id": "msg_sample",
        "type": "message",
        "role": "assistant",
        "model": "sample-model",
        "content": [{"type": "text", "text": "Hi there."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 3},
    }
    if phase == "response":
        return [message]
    started = {**message, "content": [], "stop_reason": None, "usage": {"input_tokens": 12}}
    return [
        {"type": "message_start", "message": started},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 1},
        },
        {"type": "message_stop"},
    ]


def _comfyui(phase: str) -> list[dict[str, Any]]:
    """A /prompt submission; ComfyUI routes call no response or chunk phase."""
    if phase != "request":
        return []
    workflow = {
        "3": {
            "class_type": "KSampler",
            "inputs": {"seed": 1, "steps": 20, "cfg": 7.0, "model": ["4", 0]},
        },
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sample.ckpt"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
    }
    return [{"prompt": workflow, "client_id": "sample-client", "prompt_id": "sample-prompt"}]

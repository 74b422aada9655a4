"""The public JSON shapes of jobs, files and results (never a ComfyUI address)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["chat_completion", "file_url", "images_markdown", "job_object", "unix"]


def unix(value: datetime | None) -> int | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp())


def file_url(base_url: str, file_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/files/{file_id}/content"


def job_object(row: dict[str, Any], files: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """`status`: queued, running (with `progress`), succeeded (with `outputs`), failed
    (with `error`, naming the ComfyUI node that failed), or cancelled."""
    running = row["status"] in ("queued", "running")
    return {
        "id": row["id"],
        "object": "image.job",
        "model": row["route"],
        "status": row["status"],
        "created_at": unix(row["created_at"]),
        "started_at": unix(row.get("started_at")),
        "finished_at": unix(row.get("finished_at")),
        "progress": orjson.loads(row["progress"]) if running and row.get("progress") else None,
        "outputs": [
            {
                "file_id": f["id"],
                "url": file_url(base_url, f["id"]),
                "content_type": f["content_type"],
                "bytes": f["bytes"],
            }
            for f in files
        ],
        "error": orjson.loads(row["error"]) if row.get("error") else None,
    }


def images_markdown(urls: Iterable[str]) -> str:
    return "\n".join(f"![image {index}]({url})" for index, url in enumerate(urls, 1))


def chat_completion(model: str, job_id: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + job_id.removeprefix("job_"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }

"""Usage records for tests that exercise storage and reports directly."""

from __future__ import annotations

from typing import Any

from lowart.types import UsageRecord


def make_record(request_id: str = "r", **overrides: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "key_id": 1,
        "key_name": "k",
        "route": "m",
        "vendor": "mock",
        "upstream_model": "m",
        "interface": "http",
        "status": "ok",
        "http_status": 200,
        "error_code": None,
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "latency_ms": 1.0,
        "ttft_ms": None,
        "stream": False,
    }
    values.update(overrides)
    return UsageRecord(request_id=request_id, **values)

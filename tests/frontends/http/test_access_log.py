"""One structured log line per request, without bodies or secrets."""

from __future__ import annotations

import json
import logging

import openai


def test_one_structured_line_per_request(gateway, caplog):
    caplog.set_level(logging.INFO, logger="lowart.access")
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    api.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "a very private prompt"}],
        extra_headers={"x-request-id": "log-test-1"},
    )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "lowart.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "log-test-1"
    assert (line["key"], line["route"], line["interface"], line["status"]) == (
        "test-admin",
        "fake",
        "http",
        200,
    )
    assert (line["prompt_tokens"], line["completion_tokens"]) == (11, 7)
    assert line["latency_ms"] > 0
    assert "private prompt" not in caplog.text
    assert gateway.admin_key not in caplog.text

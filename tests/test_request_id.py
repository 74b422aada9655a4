"""Request ids a client presents are kept only when the usage record can hold them."""

from __future__ import annotations

import openai
import pytest

from lowart._request_id import request_id
from lowart.store import REQUEST_ID_MAX_LENGTH
from tests.support.servers import start_gateway, stop_gateway, test_settings


def test_ids_longer_than_the_store_holds_are_replaced():
    fits = "a" * REQUEST_ID_MAX_LENGTH
    assert request_id(fits) == fits
    replaced = request_id(fits + "b")
    assert replaced.startswith("req_") and len(replaced) <= REQUEST_ID_MAX_LENGTH
    assert request_id("has space") != "has space"


def _chat_with_long_id(handle) -> None:
    api = openai.OpenAI(base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0)
    for length in (REQUEST_ID_MAX_LENGTH + 1, 128):
        raw = api.chat.completions.with_raw_response.create(
            model="mock",
            messages=[{"role": "user", "content": "a"}],
            extra_headers={"x-request-id": "x" * length},
        )
        assert len(raw.headers["x-request-id"]) <= REQUEST_ID_MAX_LENGTH
    api.chat.completions.create(
        model="mock",
        messages=[{"role": "user", "content": "b"}],
        extra_headers={"x-request-id": "later-one"},
    )
    records = handle.usage_records()
    assert len(records) == 3
    assert all(len(r["request_id"]) <= REQUEST_ID_MAX_LENGTH for r in records)
    assert records[-1]["request_id"] == "later-one"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_over_long_client_id_is_recorded_with_a_bounded_id(
    database, request, loop_thread, tmp_path
):
    overrides = {}
    if database == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    handle = start_gateway(loop_thread, test_settings(tmp_path, **overrides))
    try:
        _chat_with_long_id(handle)
    finally:
        stop_gateway(handle)

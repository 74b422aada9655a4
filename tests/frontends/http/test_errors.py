"""Every bad input gets OpenAI error JSON with the right status, never a trace."""

from __future__ import annotations

import threading
import time
import urllib.request

import aiohttp
import anthropic
import openai
import pytest


def client(gateway, key=None, **kw) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0, **kw
    )


async def raw_post(gateway, path, data: bytes, headers=None) -> tuple[int, dict, dict]:
    headers = {"Authorization": f"Bearer {gateway.admin_key}", **(headers or {})}
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.base_url + path, data=data, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None), resp.headers.copy()


def assert_openai_error(body: dict, type_: str, code: str | None = None) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == type_
    assert body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"messages": [{"role": "user", "content": "x"}]}', "model"),
        (b'{"model": "mock", "messages": []}', "messages"),
        (
            b'{"model": "mock", "messages": [{"role": "wizard", "content": "x"}]}',
            "messages[0].role",
        ),
        (b'{"model": "mock", "messages": [{"role": "user", "content": 5}]}', "messages[0].content"),
        (
            b'{"model": "mock", "messages": [{"role": "user", "content": "x"}], "max_tokens": "9"}',
            "max_tokens",
        ),
        (
            b'{"model": "mock", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}',
            "stream",
        ),
        (b"", None),
    ],
)
async def test_malformed_bodies_are_400(gateway, payload, param):
    status, body, headers = await raw_post(gateway, "/v1/chat/completions", payload)
    assert status == 400
    assert_openai_error(body, "invalid_request_error")
    assert body["error"]["param"] == param
    assert headers["x-request-id"]


def test_bad_key_is_401(gateway):
    with pytest.raises(openai.AuthenticationError) as info:
        client(gateway, key="la-not-a-real-key").chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 401
    assert info.value.body["code"] == "invalid_api_key"


async def test_missing_key_is_401(gateway):
    async with aiohttp.ClientSession() as session:
        async with session.get(gateway.base_url + "/v1/models") as resp:
            assert resp.status == 401
            assert_openai_error(await resp.json(), "authentication_error", "invalid_api_key")


async def test_revoked_key_is_refused_on_next_request(gateway):
    key = gateway.create_key("soon-revoked")
    api = openai.AsyncOpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    await api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "x"}])
    status, _, _ = await raw_post(gateway, "/admin/keys/soon-revoked/revoke", b"")
    assert status == 200
    with pytest.raises(openai.AuthenticationError):
        await api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "x"}])


def test_model_not_allowed_for_key_is_403(gateway):
    key = gateway.create_key("mock-only", models=["mock"])
    api = client(gateway, key=key)
    api.chat.completions.create(model="mock", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.PermissionDeniedError) as info:
        api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 403
    assert [m.id for m in api.models.list()] == ["mock"]


def test_unknown_model_is_404(gateway):
    with pytest.raises(openai.NotFoundError) as info:
        client(gateway).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.body["code"] == "model_not_found"
    assert "no-such-model" in info.value.body["message"]


def test_unknown_model_when_streaming_is_404_before_any_byte(gateway):
    with pytest.raises(openai.NotFoundError):
        client(gateway).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}], stream=True
        )


async def test_body_too_large_is_413(gateway):
    limit = gateway.runtime.settings.max_body_bytes
    status, body, _ = await raw_post(gateway, "/v1/chat/completions", b"x" * (limit + 10))
    assert status == 413
    assert_openai_error(body, "invalid_request_error", "request_too_large")


async def test_unknown_path_and_method(gateway):
    status, body, _ = await raw_post(gateway, "/v1/nope", b"{}")
    assert status == 404
    assert_openai_error(body, "invalid_request_error", "unknown_url")
    async with aiohttp.ClientSession() as session:
        async with session.get(gateway.base_url + "/v1/chat/completions") as resp:
            assert resp.status == 405
            assert_openai_error(await resp.json(), "invalid_request_error", "method_not_allowed")


def test_unknown_anthropic_paths_answer_in_anthropics_envelope(gateway):
    """The Message Batches API is not served: the official SDK gets Anthropic's 404."""
    client = anthropic.Anthropic(
        base_url=gateway.base_url, api_key=gateway.admin_key, max_retries=0
    )
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.batches.create(
            requests=[
                {
                    "custom_id": "one",
                    "params": {
                        "model": "mock",
                        "max_tokens": 16,
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                }
            ]
        )
    body = caught.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] == "not_found_error"
    assert "/v1/messages/batches" in body["error"]["message"]


@pytest.mark.parametrize(
    ("upstream_status", "client_status", "error"),
    [
        (400, 400, openai.BadRequestError),
        (429, 429, openai.RateLimitError),
        (500, 502, openai.APIStatusError),
        (503, 502, openai.APIStatusError),
        (401, 502, openai.APIStatusError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors_pass_status_and_message(
    gateway, upstream_status, client_status, error, stream
):
    gateway.add_model(
        "broken",
        "openai",
        base_url=gateway.extra["fake"].base_url,
        upstream_model=f"fail-{upstream_status}",
    )
    with pytest.raises(error) as info:
        client(gateway).chat.completions.create(
            model="broken", messages=[{"role": "user", "content": "x"}], stream=stream
        )
    assert info.value.status_code == client_status
    assert f"fake failure {upstream_status}" in info.value.body["message"]
    record = gateway.wait_for_records(1)[-1]
    assert record["status"] == "error" and record["http_status"] == client_status


def test_upstream_timeout_is_504(gateway):
    gateway.add_model(
        "slow",
        "openai",
        base_url=gateway.extra["fake"].base_url,
        upstream_model="slow",
        options={"read_timeout": 0.3},
    )
    with pytest.raises(openai.APIStatusError) as info:
        client(gateway).chat.completions.create(
            model="slow", messages=[{"role": "user", "content": "x"}], extra_body={"fake_delay": 3}
        )
    assert info.value.status_code == 504
    assert info.value.body["code"] == "upstream_timeout"


def test_unreachable_upstream_is_502(gateway):
    gateway.add_model("nowhere", "openai", base_url="http://127.0.0.1:9/v1", upstream_model="x")
    with pytest.raises(openai.APIStatusError) as info:
        client(gateway).chat.completions.create(
            model="nowhere", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 502
    assert info.value.body["code"] == "upstream_unavailable"
    assert "127.0.0.1:9" not in info.value.body["message"]


def test_upstream_drop_mid_stream_ends_with_error_event(gateway):
    gateway.add_model(
        "drop", "openai", base_url=gateway.extra["fake"].base_url, upstream_model="drop"
    )
    stream = client(gateway).chat.completions.create(
        model="drop", messages=[{"role": "user", "content": "x"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert received == ["w0 ", "w1 ", "w2 "]
    assert "dropped the connection" in str(info.value)
    record = gateway.wait_for_records(1)[-1]
    assert record["status"] == "error"
    assert record["usage_source"] == "counted"
    assert record["completion_tokens"] > 0


def test_an_upstream_event_that_never_ends_fails_the_stream_and_spares_the_gateway(gateway):
    """An event with no blank line is cut at the limit (8 MiB) instead of buffered forever.

    Buffering it re-copied the tail on every read: the loop stalled for seconds
    at a time (/health too) for as long as the upstream kept sending.
    """
    fake = gateway.extra["fake"]
    gateway.add_model("huge", "openai", base_url=fake.base_url, upstream_model="huge-event")
    health: list[float] = []
    done = threading.Event()

    def poll_health() -> None:
        while not done.is_set():
            health.append(_timed_health(gateway))
            time.sleep(0.01)

    poller = threading.Thread(target=poll_health)
    poller.start()
    try:
        with pytest.raises(openai.APIError) as info:  # a 502: nothing was streamed yet
            stream = client(gateway, timeout=30).chat.completions.create(
                model="huge", messages=[{"role": "user", "content": "x"}], stream=True
            )
            for _chunk in stream:
                pass
    finally:
        done.set()
        poller.join(30)
    assert isinstance(info.value, openai.InternalServerError)
    assert info.value.status_code == 502
    assert "stream event larger than 8388608 bytes" in str(info.value)
    assert fake.huge_event_sent < 32 * 1024 * 1024  # read no further than the limit
    record = gateway.wait_for_records(1)[-1]
    assert (record["route"], record["status"]) == ("huge", "error")
    health.append(_timed_health(gateway))
    assert max(health) < 1.0, health


def _timed_health(gateway) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(gateway.base_url + "/health", timeout=30) as reply:
        assert reply.status == 200
    return time.monotonic() - started

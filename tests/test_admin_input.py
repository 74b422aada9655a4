"""What admins and clients send is checked: real booleans, no control characters, no
credentials shown back, bounded nesting, and clear answers when the database is away."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import anthropic
import httpx2
import openai
import pytest
from sqlalchemy.exc import OperationalError

from tests.test_cli import lowart


@pytest.mark.parametrize("value", ["false", "true", 1, 0, None, []])
def test_admin_flag_must_be_a_json_boolean(gateway, value):
    status, answer = gateway.admin_call("POST", "/admin/keys", {"name": "k", "admin": value})
    assert status == 400, answer
    assert answer["error"]["param"] == "admin"
    status, answer = gateway.admin_call("GET", "/admin/keys")
    assert all(key["name"] != "k" for key in answer["data"])  # nothing was created


def test_admin_flag_true_and_false_work(gateway):
    status, answer = gateway.admin_call("POST", "/admin/keys", {"name": "plain", "admin": False})
    assert status == 201 and answer["admin"] is False
    status, answer = gateway.admin_call("POST", "/admin/keys", {"name": "boss", "admin": True})
    assert status == 201 and answer["admin"] is True


def test_enabled_must_be_a_json_boolean(gateway):
    status, answer = gateway.admin_call("PATCH", "/admin/models/fake", {"enabled": "false"})
    assert status == 400 and answer["error"]["param"] == "enabled"
    status, answer = gateway.admin_call("PATCH", "/admin/models/fake", {"enabled": False})
    assert status == 200 and answer["enabled"] is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base_url", "http://a.example/v1\r\nX-Injected: 1"),
        ("api_key", "sk-abc\nX-Injected: 1"),
        ("upstream_model", "gpt\r4o"),
        ("upstream_model", "gpt\x00"),
        ("name", "bad\nname"),
    ],
)
def test_control_characters_are_refused(gateway, field, value):
    body = {"name": "m", "vendor": "openai", "base_url": "http://a.example/v1", field: value}
    status, answer = gateway.admin_call("POST", "/admin/models", body)
    assert status == 400, answer
    assert answer["error"]["param"] == field


def test_cli_refuses_control_characters(tmp_path):
    result = lowart(
        tmp_path, "models", "add", "m", "--vendor", "openai",
        "--base-url", "http://a.example/v1\nX-Injected: 1", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: 'base_url' must not contain line breaks or other control characters."
    )


def test_credentials_in_a_base_url_are_not_shown(gateway, tmp_path):
    url = "https://user:hunter2-password@proxy.example/v1"
    status, answer = gateway.admin_call(
        "POST", "/admin/models", {"name": "proxied", "vendor": "openai", "base_url": url}
    )
    assert status == 201 and answer["base_url"] == "https://***@proxy.example/v1"
    status, answer = gateway.admin_call("GET", "/admin/models")
    assert "hunter2" not in str(answer)
    lowart(tmp_path, "models", "add", "proxied", "--vendor", "openai", "--base-url", url)
    listed = lowart(tmp_path, "models", "list")
    assert "hunter2" not in listed.stdout and "***@proxy.example" in listed.stdout


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [65, 255, 300, 1000])
def test_deeply_nested_json_is_a_400(gateway, depth):
    client_key = gateway.create_key("client")
    raw = (
        '{"model": "fake", "messages": [{"role": "user", "content": "hi"}], "extra": '
        + "[" * depth
        + "]" * depth
        + "}"
    )
    for path in ("/v1/chat/completions", "/v1/messages"):
        reply = httpx2.post(
            gateway.base_url + path,
            content=raw,
            headers={"Authorization": f"Bearer {client_key}", "Content-Type": "application/json"},
        )
        assert reply.status_code == 400, reply.text
        assert "64 levels" in reply.text


def test_moderate_nesting_still_works(gateway):
    api = openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=gateway.create_key("c"), max_retries=0
    )
    reply = api.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"fake_nested": _nested(40)},
    )
    assert reply.choices[0].message.content == "echo: hi"


@pytest.mark.parametrize("source", [5, "x", [], {"data": "abc"}])
def test_anthropic_image_with_a_bad_source_is_a_400(gateway, source):
    client = anthropic.Anthropic(
        base_url=gateway.base_url, api_key=gateway.create_key("c"), max_retries=0
    )
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="fake",
            max_tokens=5,
            messages=[{"role": "user", "content": [{"type": "image", "source": source}]}],
        )
    assert "image.source" in str(caught.value)


def test_an_unknown_key_during_a_database_outage_is_a_503(gateway, monkeypatch):
    known = gateway.create_key("known")
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=known, max_retries=0)
    api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "a"}])

    async def outage(_key_hash: str) -> None:
        raise OperationalError("SELECT ...", {}, Exception("unable to open database file"))

    monkeypatch.setattr(gateway.runtime.authenticator._keys, "find_active_by_hash", outage)
    stranger = openai.OpenAI(base_url=gateway.openai_base_url, api_key="la-unknown", max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        stranger.chat.completions.create(model="fake", messages=[{"role": "user", "content": "a"}])
    assert caught.value.status_code == 503
    assert "database" in caught.value.message
    # a key already known keeps working from the cache
    api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "b"}])


def test_the_sqlite_database_is_created_private(gateway, tmp_path):
    gateway.wait_for_records(0)
    for path in tmp_path.glob("lowart.db*"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_cli_start_up_database_errors_are_one_line(tmp_path):
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": "sqlite+aiosqlite:////nonexistent-lowart-dir/x.db",
        "LOWART_SECRET_KEY": "test-secret",
    }
    result = subprocess.run(
        [sys.executable, "-m", "lowart", "serve", "--port", "0", "--no-grpc"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the database cannot be used: unable to open database file"
    ]


def test_negative_usage_record_limits_are_refused(gateway):
    status, answer = gateway.admin_call("GET", "/admin/usage/records?limit=-1")
    assert status == 400 and answer["error"]["param"] == "limit"

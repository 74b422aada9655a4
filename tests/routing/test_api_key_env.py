"""A route whose provider key comes from an unset environment variable says so."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import openai
import orjson
import pytest

MESSAGE = (
    "Model 'envkey' takes its API key from the environment variable {var},"
    " which is not set in the gateway's environment"
    " (or not allowed by LOWART_API_KEY_ENV_ALLOW)."
)


@pytest.fixture
def unset_variable(monkeypatch) -> str:
    variable = f"TEST_UNSET_{uuid.uuid4().hex[:8].upper()}_API_KEY"
    monkeypatch.delenv(variable, raising=False)
    return variable


@pytest.mark.parametrize("stream", [False, True])
def test_a_request_names_the_unset_variable(gateway, fake_openai, unset_variable, stream):
    gateway.add_model(
        "envkey",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="echo",
        api_key_env=unset_variable,
    )
    sent_before = len(fake_openai.requests)
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        reply = api.chat.completions.create(
            model="envkey", messages=[{"role": "user", "content": "hi"}], stream=stream
        )
        if stream:
            list(reply)
    assert caught.value.status_code == 502
    assert MESSAGE.format(var=unset_variable) in str(caught.value)
    assert len(fake_openai.requests) == sent_before  # nothing went upstream without a key


def test_a_deployment_with_its_key_takes_over_at_once(gateway, fake_openai, unset_variable):
    """A missing key is like a 401: no retries against it, the next deployment answers."""
    gateway.add_model(
        "envkey",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="echo",
        api_key_env=unset_variable,
        options={"retries": 2, "retry_backoff": 0.5},
    )
    gateway.add_model(
        "envkey", "openai", base_url=fake_openai.base_url, upstream_model="echo", api_key="sk-x"
    )
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    for _ in range(4):
        reply = api.chat.completions.create(
            model="envkey", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content == "echo: hi"
    records = gateway.wait_for_records(4)
    for record in records:
        trail = (orjson.loads(record["extra"]) if record["extra"] else {}).get("trail") or []
        missing = [a for a in trail if a["outcome"] == "provider_key_missing"]
        assert len(missing) <= 1, trail  # never retried


def test_cli_warns_when_the_variable_is_unset(tmp_path, unset_variable):
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        "LOWART_SECRET_KEY": "test-secret",
    }

    def lowart(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lowart", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert lowart("db", "upgrade").returncode == 0
    add = ["models", "add", "envkey", "--vendor", "openai", "--api-key-env", unset_variable]
    warned = lowart(*add)
    assert warned.returncode == 0, warned.stderr
    assert f"warning: the environment variable {unset_variable} is not set here" in warned.stderr
    assert "Added model 'envkey'" in warned.stdout
    env[unset_variable] = "sk-from-env"
    quiet = lowart(*add)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
    assert "sk-from-env" not in quiet.stdout + quiet.stderr


@pytest.mark.parametrize("variable", ["LOWART_DATABASE_URL", "LOWART_SECRET_KEY", "HOME", "PATH"])
def test_admin_refuses_variables_outside_the_allow_list(gateway, fake_openai, variable):
    body = {"name": "envkey", "vendor": "openai", "base_url": fake_openai.base_url}
    status, answer = gateway.admin_call("POST", "/admin/models", {**body, "api_key_env": variable})
    assert status == 400, answer
    assert variable in answer["error"]["message"]
    assert answer["error"]["param"] == "api_key_env"
    status, _ = gateway.admin_call("POST", "/admin/models", body)
    assert status in (200, 201)
    status, answer = gateway.admin_call("PATCH", "/admin/models/envkey", {"api_key_env": variable})
    assert status == 400, answer


def test_a_row_stored_earlier_never_sends_a_server_variable(gateway, fake_openai, monkeypatch):
    """The allow-list is checked again where the variable is read, not only at add time."""
    monkeypatch.setenv("LOWART_TEST_PRIVATE_SETTING", "private-server-value")

    async def store_directly() -> None:
        await gateway.runtime.admin.models.add(
            {
                "name": "stored",
                "vendor": "openai",
                "base_url": fake_openai.base_url,
                "upstream_model": "echo",
                "api_key_env": "LOWART_TEST_PRIVATE_SETTING",
            }
        )
        await gateway.runtime.reload()

    gateway.run(store_directly())
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        api.chat.completions.create(model="stored", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 502
    assert "private-server-value" not in str(caught.value)
    assert all("private-server-value" not in str(h) for h in fake_openai.headers)


def test_the_operator_allow_list_decides(tmp_path, fake_openai, loop_thread, monkeypatch):
    from tests.support.servers import start_gateway, stop_gateway, test_settings

    monkeypatch.setenv("ACME_SECRET", "sk-acme")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    settings = test_settings(tmp_path, api_key_env_allow=("ACME_*",))
    handle = start_gateway(loop_thread, settings)
    try:
        handle.add_model("acme", "openai", base_url=fake_openai.base_url, api_key_env="ACME_SECRET")
        api = openai.OpenAI(base_url=handle.openai_base_url, api_key=handle.admin_key)
        api.chat.completions.create(model="acme", messages=[{"role": "user", "content": "x"}])
        assert fake_openai.headers[-1]["Authorization"] == "Bearer sk-acme"
        status, answer = handle.admin_call(
            "POST",
            "/admin/models",
            {"name": "o", "vendor": "openai", "api_key_env": "OPENAI_API_KEY"},
        )
        assert status == 400 and "ACME_*" in answer["error"]["message"]
    finally:
        stop_gateway(handle)


def test_settings_read_the_allow_list(monkeypatch):
    from lowart.config import DEFAULT_API_KEY_ENV_ALLOW, Settings

    monkeypatch.delenv("LOWART_API_KEY_ENV_ALLOW", raising=False)
    assert Settings.from_env().api_key_env_allow == DEFAULT_API_KEY_ENV_ALLOW
    monkeypatch.setenv("LOWART_API_KEY_ENV_ALLOW", "OPENAI_API_KEY, ANTHROPIC_*")
    assert Settings.from_env().api_key_env_allow == ("OPENAI_API_KEY", "ANTHROPIC_*")

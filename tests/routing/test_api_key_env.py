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
    " which is not set in the gateway's environment."
)


@pytest.fixture
def unset_variable(monkeypatch) -> str:
    variable = f"LOWART_TEST_UNSET_{uuid.uuid4().hex[:8].upper()}"
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

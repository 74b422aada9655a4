"""Changes made by the CLI (another process) reach a running gateway without a restart."""

from __future__ import annotations

import os
import subprocess
import sys

import openai
import pytest

from tests.support.waiting import wait_until


def _cli(gateway, *args: str) -> str:
    settings = gateway.runtime.settings
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": settings.database_url,
        "LOWART_SECRET_KEY": settings.secret_key,
    }
    result = subprocess.run(
        [sys.executable, "-m", "lowart", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_cli_model_and_key_changes_reach_the_running_gateway(gateway):
    fake = gateway.extra["fake"]
    _cli(
        gateway,
        "models",
        "add",
        "from-cli",
        "--vendor",
        "openai",
        "--base-url",
        fake.base_url,
        "--upstream-model",
        "echo",
        "--api-key",
        "sk-cli",
    )
    assert wait_until(
        lambda: any(r.name == "from-cli" for r in gateway.runtime.models.routes()), timeout=5
    )
    key = _cli(gateway, "keys", "create", "--name", "cli-key").strip().splitlines()[-1]
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    reply = api.chat.completions.create(
        model="from-cli", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "echo: hi"
    assert (
        fake.headers[-1]["Authorization"] == "Bearer sk-cli"
    )  # decrypted with the shared master key

    _cli(gateway, "keys", "revoke", "cli-key")

    def refused() -> bool:
        try:
            api.chat.completions.create(
                model="from-cli", messages=[{"role": "user", "content": "hi"}]
            )
        except openai.AuthenticationError:
            return True
        return False

    assert wait_until(refused, timeout=5)
    _cli(gateway, "models", "remove", "from-cli")
    assert wait_until(
        lambda: all(r.name != "from-cli" for r in gateway.runtime.models.routes()), timeout=5
    )
    with pytest.raises(openai.NotFoundError):
        openai.OpenAI(
            base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0
        ).chat.completions.create(model="from-cli", messages=[{"role": "user", "content": "hi"}])

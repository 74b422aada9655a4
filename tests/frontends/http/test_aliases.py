"""Model aliases with wildcards and a default route, configured over the admin API and
the CLI, used by the official SDKs; a key's allowed models apply to the route an alias
resolves to."""

from __future__ import annotations

import os
import subprocess
import sys

import anthropic
import grpc
import openai
import pytest

from lowart._proto import chat_pb2, chat_pb2_grpc
from tests.support.waiting import wait_until


def _claude(gateway, key=None) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=gateway.base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def _openai(gateway, key=None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def _hi() -> list[dict]:
    return [{"role": "user", "content": "hi"}]


def test_alias_admin_api_and_use(gateway):
    status, body = gateway.admin_call(
        "POST", "/admin/aliases", {"pattern": "claude-*", "model": "mock"}
    )
    assert status == 201 and body == {"pattern": "claude-*", "model": "mock"}
    reply = _claude(gateway).messages.create(
        model="claude-sonnet-4-5-20250929", max_tokens=20, messages=_hi()
    )
    assert reply.content[0].text == "This is the lowart mock model. You said: hi"
    record = gateway.wait_for_records(1)[-1]
    assert record["route"] == "mock"

    gateway.admin_call("POST", "/admin/aliases", {"pattern": "claude-3-5-haiku*", "model": "fake"})
    _claude(gateway).messages.create(model="claude-3-5-haiku-latest", max_tokens=20, messages=_hi())
    assert gateway.extra["fake"].requests[-1]["model"] == "echo"  # the more specific alias

    listed = _openai(gateway).models.list()
    by_id = {m.id: m.model_dump() for m in listed.data}
    assert by_id["mock"]["aliases"] == ["claude-*"]
    assert by_id["fake"]["aliases"] == ["claude-3-5-haiku*"]
    assert by_id["mock"]["kind"] == "chat"
    one = _openai(gateway).models.retrieve("claude-opus-4").model_dump()
    assert one["id"] == "claude-opus-4" and one["alias_for"] == "mock"
    assert gateway.admin_call("GET", "/admin/aliases")[1]["data"] == [
        {"pattern": "claude-*", "model": "mock"},
        {"pattern": "claude-3-5-haiku*", "model": "fake"},
    ]

    status, _ = gateway.admin_call("DELETE", "/admin/aliases?pattern=claude-*")
    assert status == 200
    with pytest.raises(anthropic.NotFoundError):
        _claude(gateway).messages.create(model="claude-opus-4", max_tokens=20, messages=_hi())


def test_alias_refusals(gateway):
    status, body = gateway.admin_call("POST", "/admin/aliases", {"pattern": "x-*", "model": "nope"})
    assert status == 400 and "No model named" in body["error"]["message"]
    status, body = gateway.admin_call(
        "POST", "/admin/aliases", {"pattern": "fake", "model": "mock"}
    )
    assert status == 400 and "own name" in body["error"]["message"]
    status, body = gateway.admin_call(
        "POST", "/admin/aliases", {"pattern": "a\nb", "model": "mock"}
    )
    assert status == 400
    status, body = gateway.admin_call("DELETE", "/admin/aliases?pattern=never")
    assert status == 404
    key = gateway.create_key("plain")
    status, _ = gateway.run(_plain_admin_call(gateway, key))
    assert status == 403


async def _plain_admin_call(gateway, key):
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            gateway.base_url + "/admin/aliases",
            json={"pattern": "*", "model": "mock"},
            headers={"Authorization": f"Bearer {key}"},
        ) as resp,
    ):
        return resp.status, await resp.text()


def test_default_route_and_allowed_models(gateway):
    gateway.admin_call("POST", "/admin/aliases", {"pattern": "*", "model": "fake"})
    gateway.admin_call("POST", "/admin/aliases", {"pattern": "claude-*", "model": "mock"})
    reply = _openai(gateway).chat.completions.create(model="whatever-model", messages=_hi())
    assert reply.choices[0].message.content == "echo: hi" and reply.model == "fake"
    # A key limited to `mock` may use the names that resolve to mock, and only those.
    key = gateway.create_key("mock-only", models=["mock"])
    answer = _claude(gateway, key).messages.create(model="claude-x", max_tokens=20, messages=_hi())
    assert answer.content[0].type == "text"
    with pytest.raises(anthropic.PermissionDeniedError):
        _claude(gateway, key).messages.create(model="unknown-y", max_tokens=20, messages=_hi())
    models = _openai(gateway, key).models.list().data
    assert [(m.id, m.model_dump()["aliases"]) for m in models] == [("mock", ["claude-*"])]


def test_alias_over_grpc(gateway):
    gateway.admin_call("POST", "/admin/aliases", {"pattern": "gpt-*", "model": "mock"})
    gateway.start_grpc()
    with grpc.insecure_channel(gateway.grpc_target) as channel:
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        reply = stub.CreateChatCompletion(
            chat_pb2.CreateChatCompletionRequest(
                model="gpt-4o", messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="yo")]
            ),
            metadata=(("authorization", f"Bearer {gateway.admin_key}"),),
            timeout=10,
        )
        assert reply.model == "mock"
        with pytest.raises(grpc.RpcError) as raised:  # unknown model before a bad request
            stub.CreateChatCompletion(
                chat_pb2.CreateChatCompletionRequest(model="nope"),
                metadata=(("authorization", f"Bearer {gateway.admin_key}"),),
                timeout=10,
            )
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def _cli(gateway, *args: str) -> subprocess.CompletedProcess:
    settings = gateway.runtime.settings
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": settings.database_url,
        "LOWART_SECRET_KEY": settings.secret_key,
    }
    return subprocess.run(
        [sys.executable, "-m", "lowart", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _answers(gateway, model: str) -> str | None:
    try:
        reply = _openai(gateway).chat.completions.create(model=model, messages=_hi())
    except openai.NotFoundError:
        return None
    return reply.model


def _embeds(gateway, model: str) -> bool:
    try:
        _openai(gateway).embeddings.create(model=model, input="x")
    except openai.NotFoundError:
        return False
    return True


def test_cli_kinds_reach_the_running_gateway(gateway):
    added = _cli(gateway, "models", "add", "emb-cli", "--vendor", "mock", "--kind", "embedding")
    assert added.returncode == 0
    assert wait_until(lambda: _embeds(gateway, "emb-cli"), timeout=5)
    wrong = _cli(gateway, "models", "update", "emb-cli", "--kind", "image")
    assert wrong.returncode == 1 and "A mock route serves chat or embedding" in wrong.stderr


def test_cli_aliases_reach_the_running_gateway(gateway):
    done = _cli(gateway, "models", "alias", "claude-*", "mock")
    assert done.returncode == 0 and "'claude-*' now go to 'mock'" in done.stdout
    assert wait_until(lambda: _answers(gateway, "claude-haiku") == "mock", timeout=5)
    assert _cli(gateway, "models", "default", "fake").returncode == 0
    assert wait_until(lambda: _answers(gateway, "other") == "fake", timeout=5)
    listing = _cli(gateway, "models", "list").stdout
    assert "KIND" in listing and "aliases" in listing and "claude-*" in listing
    assert _cli(gateway, "models", "default").stdout.strip() == "fake"
    assert _cli(gateway, "models", "unalias", "claude-*").returncode == 0
    assert wait_until(lambda: _answers(gateway, "claude-haiku") == "fake", timeout=5)  # default
    failed = _cli(gateway, "models", "unalias", "claude-*")
    assert (
        failed.returncode == 1 and "No alias" in failed.stderr and "Traceback" not in failed.stderr
    )

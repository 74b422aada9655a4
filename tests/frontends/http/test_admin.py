"""The admin API: admin keys only, and changes take effect without a restart."""

from __future__ import annotations

import aiohttp
import openai
import pytest


async def call(gateway, method, path, key=None, json=None):
    headers = {"Authorization": f"Bearer {key or gateway.admin_key}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(
            method, gateway.base_url + path, json=json, headers=headers
        ) as resp:
            return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/keys"),
        ("POST", "/admin/keys"),
        ("POST", "/admin/keys/x/revoke"),
        ("GET", "/admin/models"),
        ("POST", "/admin/models"),
        ("PATCH", "/admin/models/mock"),
        ("DELETE", "/admin/models/mock"),
        ("GET", "/admin/usage"),
        ("GET", "/admin/usage/records"),
    ],
)
async def test_admin_endpoints_refuse_non_admin_keys(gateway, method, path):
    key = gateway.create_key("plain")
    status, body = await call(gateway, method, path, key=key, json={"name": "x"})
    assert status == 403
    assert body["error"]["type"] == "permission_error"
    status, body = await call(gateway, method, path, key="la-wrong", json={"name": "x"})
    assert status == 401


async def test_key_lifecycle(gateway):
    status, created = await call(gateway, "POST", "/admin/keys", json={"name": "team-a", "rpm": 5})
    assert status == 201
    assert created["key"].startswith("la-") and created["rpm"] == 5
    status, listing = await call(gateway, "GET", "/admin/keys")
    names = {k["name"]: k for k in listing["data"]}
    assert "key" not in names["team-a"] and names["team-a"]["prefix"] == created["key"][:10]
    status, body = await call(gateway, "POST", "/admin/keys", json={"name": "team-a"})
    assert status == 400 and body["error"]["code"] == "duplicate_name"
    status, body = await call(gateway, "POST", "/admin/keys", json={"name": "bad name!"})
    assert status == 400
    status, _ = await call(gateway, "POST", "/admin/keys/team-a/revoke")
    assert status == 200
    status, _ = await call(gateway, "POST", "/admin/keys/team-a/revoke")
    assert status == 404


async def test_model_changes_take_effect_without_restart(gateway):
    fake = gateway.extra["fake"]
    api = openai.AsyncOpenAI(
        base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0
    )
    status, model = await call(
        gateway,
        "POST",
        "/admin/models",
        json={
            "name": "live",
            "vendor": "openai",
            "base_url": fake.base_url,
            "upstream_model": "echo",
            "api_key": "sk-x",
        },
    )
    assert status == 201 and model["api_key"] == "stored (encrypted)"
    reply = await api.chat.completions.create(
        model="live", messages=[{"role": "user", "content": "1"}]
    )
    assert reply.choices[0].message.content == "echo: 1"

    status, _ = await call(gateway, "PATCH", "/admin/models/live", json={"upstream_model": "tools"})
    assert status == 200
    reply = await api.chat.completions.create(
        model="live", messages=[{"role": "user", "content": "2"}]
    )
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"

    status, _ = await call(gateway, "PATCH", "/admin/models/live", json={"enabled": False})
    with pytest.raises(openai.NotFoundError):
        await api.chat.completions.create(model="live", messages=[{"role": "user", "content": "3"}])

    status, _ = await call(gateway, "DELETE", "/admin/models/live")
    assert status == 200
    status, _ = await call(gateway, "DELETE", "/admin/models/live")
    assert status == 404
    await api.close()


async def test_invalid_model_definitions_are_400(gateway):
    for payload in (
        {"name": "x", "vendor": "nonsense"},
        {"name": "x"},
        {"name": "x", "vendor": "openai", "base_url": "ftp://nope"},
        {"name": "x", "vendor": "openai", "colour": "red"},
    ):
        status, body = await call(gateway, "POST", "/admin/models", json=payload)
        assert status == 400, payload
        assert body["error"]["type"] == "invalid_request_error"


async def test_usage_summary_and_records(gateway):
    api = openai.AsyncOpenAI(
        base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0
    )
    for _ in range(3):
        await api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "x"}])
    await api.close()
    gateway.wait_for_records(3)
    status, body = await call(gateway, "GET", "/admin/usage?by=model")
    row = next(r for r in body["data"] if r["route"] == "fake")
    assert row["requests"] == 3 and row["total_tokens"] == 54 and row["errors"] == 0
    status, body = await call(gateway, "GET", "/admin/usage?by=key&since=1d")
    assert body["data"][0]["key_name"] == "test-admin"
    status, body = await call(gateway, "GET", "/admin/usage?by=weather")
    assert status == 400
    status, body = await call(gateway, "GET", "/admin/usage/records?limit=2")
    assert len(body["data"]) == 2 and body["data"][0]["route"] == "fake"

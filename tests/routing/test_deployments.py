"""Several deployments behind one name, breakers seen from outside, and the routing
configuration through the admin API and the command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import aiohttp
import openai
import pytest

from tests.routing.test_failover import FAST, ask, fallback, refused_url, usage
from tests.support.fake_openai import FakeOpenAI
from tests.support.waiting import wait_until


async def admin_call(gateway, method: str, path: str, **kw) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {gateway.admin_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, gateway.base_url + path, headers=headers, **kw) as resp,
    ):
        return resp.status, await resp.json()


def admin(gateway, method: str, path: str, **kw) -> tuple[int, dict]:
    return asyncio.run(admin_call(gateway, method, path, **kw))


@pytest.fixture
def second_fake(loop_thread):
    fake = FakeOpenAI()
    loop_thread.run(fake.start())
    yield fake
    loop_thread.run(fake.stop())


def test_traffic_splits_by_weight(gateway, second_fake):
    first = gateway.extra["fake"]
    status, _ = admin(
        gateway,
        "POST",
        "/admin/models",
        json={"name": "gpt", "vendor": "openai", "base_url": first.base_url, "weight": 3},
    )
    assert status == 201
    status, body = admin(
        gateway,
        "POST",
        "/admin/models",
        json={"name": "gpt", "vendor": "openai", "base_url": second_fake.base_url, "weight": 1},
    )
    assert status == 201 and body["weight"] == 1

    async def burst() -> None:
        api = openai.AsyncOpenAI(
            base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0
        )
        semaphore = asyncio.Semaphore(32)

        async def one() -> None:
            async with semaphore:
                await api.chat.completions.create(
                    model="gpt", messages=[{"role": "user", "content": "x"}]
                )

        await asyncio.gather(*(one() for _ in range(400)))
        await api.close()

    asyncio.run(burst())
    share = len(first.requests) / 400
    assert len(first.requests) + len(second_fake.requests) == 400
    # binomial(400, 0.75): sd ~0.022, so +-0.08 is a 3.5-sigma band
    assert 0.67 <= share <= 0.83, share
    _, listing = admin(gateway, "GET", "/v1/models")
    assert [m["id"] for m in listing["data"]].count("gpt") == 1  # one public name


def test_a_failing_deployment_hands_over_to_its_sibling(gateway):
    fake = gateway.extra["fake"]
    gateway.add_model("pair", "openai", base_url=refused_url(), options={**FAST, "retries": 0})
    gateway.add_model("pair", "openai", base_url=fake.base_url, upstream_model="echo")
    for _ in range(6):
        assert ask(gateway, "pair").choices[0].message.content == "echo: hi"
    assert len(fake.requests) == 6


def test_breaker_opens_probes_and_closes(gateway):
    fake = gateway.extra["fake"]
    options = {
        **FAST,
        "retries": 0,
        "breaker_min_calls": 2,
        "breaker_failure_ratio": 0.5,
        "breaker_cooldown": 0.6,
    }
    gateway.add_model("flaky", "openai", base_url=refused_url(), options=options)
    gateway.add_model("spare", "mock")
    fallback(gateway, "flaky", "spare")
    deployment = gateway.run(gateway.runtime.admin.models.get("flaky"))["id"]

    def circuit() -> str:
        _, body = admin(gateway, "GET", "/admin/models")
        return next(m["circuit"] for m in body["data"] if m["id"] == deployment)

    for _ in range(2):
        assert ask(gateway, "flaky").model == "spare"  # tried flaky, fell back
    assert circuit() == "open"
    ask(gateway, "flaky")  # while open, flaky is not even tried
    records = usage(gateway, 3)
    assert [len(r["extra"]["trail"]) for r in records] == [2, 2, 1]
    assert records[-1]["extra"]["trail"][0]["route"] == "spare"
    # what the CLI shows comes from the published state in the database
    states = gateway.run(_published_states(gateway))
    assert next(m["circuit"] for m in states if m["id"] == deployment) == "open"

    # repair the deployment; after the cool-down one probe goes through and closes it
    status, _ = admin(
        gateway,
        "PATCH",
        f"/admin/models/flaky?deployment={deployment}",
        json={"base_url": fake.base_url, "upstream_model": "echo"},
    )
    assert status == 200
    # once the cool-down is over both views say the next request probes it
    assert wait_until(lambda: _cooled(gateway, deployment), timeout=3)
    assert circuit() == "half_open"
    states = gateway.run(_published_states(gateway))
    assert next(m["circuit"] for m in states if m["id"] == deployment) == "half_open"
    assert ask(gateway, "flaky").model == "flaky"
    assert circuit() == "closed"


async def _published_states(gateway):
    """What another process (the CLI) sees: the Admin service without a live breaker."""
    admin = gateway.runtime.admin
    return await admin.routing.with_circuits(await admin.models.list())


def _cooled(gateway, deployment: int) -> bool:
    breaker = gateway.runtime.gateway.breakers.snapshot(deployment)
    return breaker is not None and (breaker.open_until or 0) < time.time()


def test_a_stream_dying_midway_counts_against_its_deployment(gateway):
    fake = gateway.extra["fake"]
    options = {"breaker_min_calls": 1, "breaker_cooldown": 30}
    gateway.add_model(
        "dying", "openai", base_url=fake.base_url, upstream_model="drop", options=options
    )
    deployment = gateway.run(gateway.runtime.admin.models.get("dying"))["id"]
    with pytest.raises(openai.APIError):
        list(ask(gateway, "dying", stream=True))
    assert gateway.runtime.gateway.breakers.snapshot(deployment).state == "open"


def test_all_circuits_open_is_503_with_retry_after_and_one_record(gateway):
    options = {"retries": 0, "breaker_min_calls": 1, "breaker_cooldown": 30}
    gateway.add_model("down", "openai", base_url=refused_url(), options=options)
    with pytest.raises(openai.APIStatusError) as info:
        ask(gateway, "down")
    assert info.value.status_code == 502
    raw = openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0
    ).chat.completions.with_raw_response
    with pytest.raises(openai.APIStatusError) as info:
        raw.create(model="down", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 503
    assert info.value.body["code"] == "circuit_open"
    assert 25 <= int(info.value.response.headers["Retry-After"]) <= 30
    records = usage(gateway, 2)
    assert len(records) == 2 and records[-1]["error_code"] == "circuit_open"


def test_fallbacks_through_the_admin_api(gateway):
    for name in ("a", "b", "c"):
        gateway.add_model(name, "mock")
    assert (
        admin(gateway, "POST", "/admin/fallbacks", json={"model": "a", "fallback": "b"})[0] == 201
    )
    status, _ = admin(
        gateway, "POST", "/admin/fallbacks", json={"model": "b", "fallback": "c", "priority": 2}
    )
    assert status == 201
    status, body = admin(gateway, "POST", "/admin/fallbacks", json={"model": "c", "fallback": "a"})
    assert status == 400 and body["error"]["code"] == "fallback_cycle"
    assert "c -> a -> b -> c" in body["error"]["message"]
    status, body = admin(gateway, "POST", "/admin/fallbacks", json={"model": "a", "fallback": "a"})
    assert status == 400 and body["error"]["code"] == "fallback_cycle"
    status, body = admin(gateway, "POST", "/admin/fallbacks", json={"model": "a", "fallback": "x"})
    assert status == 400 and body["error"]["param"] == "fallback"
    status, body = admin(gateway, "POST", "/admin/fallbacks", json={"model": "a", "fallback": "b"})
    assert status == 400 and body["error"]["code"] == "duplicate_fallback"
    _, listing = admin(gateway, "GET", "/admin/fallbacks")
    assert listing["data"] == [
        {"model": "a", "fallback": "b", "priority": 0},
        {"model": "b", "fallback": "c", "priority": 2},
    ]
    assert admin(gateway, "DELETE", "/admin/fallbacks?model=a&fallback=b")[0] == 200
    assert admin(gateway, "DELETE", "/admin/fallbacks?model=a&fallback=b")[0] == 404
    # removing a model removes the edges that name it
    assert admin(gateway, "DELETE", "/admin/models/c")[0] == 200
    assert admin(gateway, "GET", "/admin/fallbacks")[1]["data"] == []


def test_deployment_addressing_and_validation(gateway):
    gateway.add_model("two", "mock", weight=2)
    gateway.add_model("two", "mock", options={"reply": "second"})
    status, body = admin(gateway, "PATCH", "/admin/models/two", json={"weight": 5})
    assert status == 400 and body["error"]["param"] == "deployment"
    _, listing = admin(gateway, "GET", "/admin/models")
    ids = [m["id"] for m in listing["data"] if m["name"] == "two"]
    status, body = admin(
        gateway, "PATCH", f"/admin/models/two?deployment={ids[0]}", json={"weight": 5}
    )
    assert status == 200 and body["weight"] == 5
    status, body = admin(gateway, "PATCH", "/admin/models/two?deployment=999", json={"weight": 1})
    assert status == 404
    status, body = admin(
        gateway, "PATCH", f"/admin/models/two?deployment={ids[0]}", json={"weight": -1}
    )
    assert status == 400 and body["error"]["param"] == "weight"
    bad = {"options": {"retries": "many"}}
    status, body = admin(gateway, "PATCH", f"/admin/models/two?deployment={ids[0]}", json=bad)
    assert status == 400 and "retries" in body["error"]["message"]
    assert admin(gateway, "DELETE", f"/admin/models/two?deployment={ids[0]}")[0] == 200
    assert ask(gateway, "two").choices[0].message.content == "second"


def lowart(db: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOWART_DATABASE_URL": db, "LOWART_SECRET_KEY": "test-secret"}
    return subprocess.run(
        [sys.executable, "-m", "lowart", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_deployments_and_fallbacks(gateway, tmp_path):
    db = gateway.runtime.settings.database_url
    fake = gateway.extra["fake"]
    out = lowart(
        db, "models", "add", "g", "--vendor", "openai", "--base-url", fake.base_url, "--weight", "3"
    )
    assert out.returncode == 0 and "weight 3" in out.stdout
    lowart(db, "models", "add", "g", "--vendor", "mock")
    lowart(db, "models", "add", "h", "--vendor", "mock")
    assert lowart(db, "models", "fallback", "add", "g", "h", "--priority", "1").returncode == 0
    cycle = lowart(db, "models", "fallback", "add", "h", "g")
    assert cycle.returncode == 1 and "cycle: h -> g -> h" in cycle.stderr
    assert "Traceback" not in cycle.stderr
    ambiguous = lowart(db, "models", "update", "g", "--weight", "1")
    assert ambiguous.returncode == 1 and "--deployment" in ambiguous.stderr
    rows = [line.split() for line in lowart(db, "models", "list").stdout.splitlines()]
    assert rows[0][-1] == "CIRCUIT"
    assert [(row[2], row[-1]) for row in rows if row[1] == "g"] == [
        ("3", "closed"),
        ("1", "closed"),
    ]
    edges = [line.split() for line in lowart(db, "models", "fallback", "list").stdout.splitlines()]
    assert edges[1:] == [["g", "h", "1"]]
    # the running gateway picks the CLI's changes up through the configuration version
    assert wait_until(lambda: len(gateway.runtime.models.deployments().get("g", [])) == 2, 5)
    assert gateway.runtime.models.fallbacks()["g"] == ["h"]

"""A fallback answers only a key that may use it: keys limited to a model stay within it."""

from __future__ import annotations

import openai
import pytest


def _configure(gateway) -> None:
    fake = gateway.extra["fake"]
    gateway.add_model("prim", "openai", base_url=fake.base_url, upstream_model="fail-500")
    gateway.add_model("leaky", "openai", base_url=fake.base_url, upstream_model="echo")

    async def add() -> None:
        await gateway.runtime.admin.routing.add_fallback("prim", "leaky", 0)
        await gateway.runtime.reload()

    gateway.run(add())


def _ask(gateway, key: str, *, stream: bool = False) -> str:
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=key, max_retries=0)
    reply = api.chat.completions.create(
        model="prim", messages=[{"role": "user", "content": "hi"}], stream=stream
    )
    if stream:
        return "".join(c.choices[0].delta.content or "" for c in reply if c.choices)
    return reply.choices[0].message.content or ""


@pytest.mark.parametrize("stream", [False, True])
def test_a_key_limited_to_the_primary_gets_no_answer_from_its_fallback(gateway, stream):
    _configure(gateway)
    fake = gateway.extra["fake"]
    key = gateway.create_key("prim-only", models=["prim"])
    with pytest.raises(openai.APIStatusError) as caught:
        _ask(gateway, key, stream=stream)
    assert caught.value.status_code == 502
    assert {body["model"] for body in fake.requests} == {"fail-500"}  # leaky never called


def test_a_key_allowed_both_gets_the_fallbacks_answer(gateway):
    _configure(gateway)
    key = gateway.create_key("both", models=["prim", "leaky"])
    assert _ask(gateway, key) == "echo: hi"
    assert _ask(gateway, gateway.create_key("unlimited")) == "echo: hi"

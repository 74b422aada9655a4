"""Cost and spending budgets, end to end: a priced route's records carry their exact
cost, and a key whose budget is spent is refused with 429 insufficient_quota in
each protocol (OpenAI and Anthropic SDKs, gRPC RESOURCE_EXHAUSTED, MCP error)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.integration.conftest import openai_client, records
from tests.integration.test_limits_interfaces import (
    INTERFACES,
    refusals,
    via_anthropic,
    via_grpc,
    via_openai,
)

# 0.1 per prompt token and 0.2 per completion token: the fake upstream reports
# 11 prompt and 7 completion tokens, so each call costs exactly 2.5.
PRICES = {"price_in": "100000", "price_out": "200000"}


def _price_fake(gateway) -> None:
    status, body = gateway.admin_call("PATCH", "/admin/models/fake", PRICES)
    assert status == 200, body
    assert body["price"] == {
        "input": "100000",
        "cached": None,
        "output": "200000",
        "image": None,
        "currency": "USD",
        "source": "route",
    }
    gateway.run(gateway.runtime.reload())


async def test_a_spent_budget_is_refused_on_every_interface(live):
    _price_fake(live)
    key = live.create_key("spender", budget="4.00", budget_period="day")
    # The estimate (prompt counted here + max_tokens 5 at the output rate) fits the
    # budget; the real cost (2.5) leaves less than the next request's estimate.
    assert await via_openai(live, key, "insufficient_quota") is None
    refused = await refusals(live, key, "insufficient_quota")
    assert set(refused) == set(INTERFACES)
    assert set(refused.values()) == {
        "Spending budget of 4 for today (UTC) for key 'spender' is used up (2.5 spent or reserved)."
    }
    (record,) = await asyncio.to_thread(records, live, 1)
    assert record["cost"] == Decimal("2.5") and record["currency"] == "USD"
    status, keys = live.admin_call("GET", "/admin/keys")
    assert status == 200
    mine = next(k for k in keys["data"] if k["name"] == "spender")
    assert (mine["budget"], mine["budget_period"], mine["spent"]) == ("4", "day", "2.5")


async def test_raising_the_budget_admits_the_key_again(live):
    _price_fake(live)
    key = live.create_key("raised", budget="3", budget_period="month")
    assert await via_anthropic(live, key, "insufficient_quota") is None
    assert await via_grpc(live, key, "insufficient_quota") is not None
    status, body = live.admin_call("PATCH", "/admin/keys/raised", {"budget": "10"})
    assert status == 200 and body["budget"] == "10" and body["spent"] == "2.5"
    await asyncio.to_thread(live.run, live.runtime.reload())
    assert await via_grpc(live, key, "insufficient_quota") is None
    found = await asyncio.to_thread(records, live, 2)
    assert [r["cost"] for r in found] == [Decimal("2.5"), Decimal("2.5")]


async def test_unpriced_routes_record_no_cost_and_table_priced_ones_do(live, fake_openai):
    key = live.create_key("plain")
    assert await via_openai(live, key, "insufficient_quota") is None  # fake/echo: no price
    live.add_model(
        "table", "openai", base_url=fake_openai.base_url, upstream_model="gpt-4o-mini-2024-07-18"
    )
    status, body = live.admin_call("GET", "/admin/models")
    assert status == 200
    table = next(m for m in body["data"] if m["name"] == "table")
    assert table["price"]["source"] == "table" and table["price"]["as_of"]
    assert (table["price"]["input"], table["price"]["cached"]) == ("0.15", "0.075")

    def ask_table() -> None:
        openai_client(live, key).chat.completions.create(
            model="table", messages=[{"role": "user", "content": "x"}]
        )

    await asyncio.to_thread(ask_table)
    unpriced, priced = await asyncio.to_thread(records, live, 2)
    assert unpriced["cost"] is None and unpriced["currency"] is None
    # 11 prompt tokens at 0.15 and 7 completion tokens at 0.60 per million:
    assert priced["cost"] == Decimal("0.00000585") and priced["currency"] == "USD"


def test_bad_prices_and_budgets_are_refused(gateway):
    for body in (
        {"price_in": "-1"},
        {"price_out": "abc"},
        {"price_cached": "0.0000001"},
        {"price_image": "1000001"},
        {"currency": "EURO"},
        {"price_in": True},
    ):
        status, answer = gateway.admin_call("PATCH", "/admin/models/mock", body)
        assert status == 400, (body, answer)
        assert answer["error"]["param"] == next(iter(body)), answer
    for body in ({"budget": "-5"}, {"budget": "x"}, {"budget": "2000000"}, {"budget_period": "y"}):
        status, answer = gateway.admin_call("PATCH", f"/admin/keys/{'test-admin'}", body)
        assert status == 400, (body, answer)

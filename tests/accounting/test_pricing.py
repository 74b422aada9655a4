"""Pricing math: exact decimals, the cached rate, images, the table and overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lowart.accounting import PriceTable, check_currency, check_price, price_table, route_price
from lowart.types import Price

D = Decimal


def test_tokens_cost_exactly_with_cached_tokens_at_the_cached_rate():
    price = Price(input=D("2.50"), cached=D("1.25"), output=D("10"))
    # 1,000 prompt tokens of which 400 cached, 500 completion tokens:
    # 600 * 2.50 + 400 * 1.25 + 500 * 10 = 1500 + 500 + 5000 = 7000 per million.
    assert price.of_tokens(1000, 500, cached=400) == D("0.007")
    assert price.of_tokens(1, 0) == D("0.0000025")
    assert price.of_tokens(0, 0) == 0
    # 0.1 + 0.2 style sums stay exact: a float would give 3.0000000000000004e-07.
    cheap = Price(input=D("0.1"), output=D("0.2"))
    assert cheap.of_tokens(1, 1) == D("0.0000003")


def test_cached_tokens_default_to_the_input_rate_and_are_bounded_by_the_prompt():
    price = Price(input=D("3"), output=D("15"))
    assert price.of_tokens(100, 0, cached=40) == price.of_tokens(100, 0)
    with_cache = Price(input=D("3"), cached=D("0.3"))
    assert with_cache.of_tokens(10, 0, cached=50) == D("0.000003")  # all 10 cached


def test_images_cost_per_image():
    price = Price(image=D("0.04"), currency="EUR")
    assert price.of_images(3) == D("0.12")
    assert price.of_images(0) == 0
    assert Price(input=D("1")).of_images(2) == 0


@pytest.mark.parametrize(
    ("model", "expected_input"),
    [
        ("gpt-4o", "2.5"),
        ("gpt-4o-2024-08-06", "2.5"),
        ("gpt-4o-2024-05-13", "5"),
        ("gpt-4o-mini", "0.15"),
        ("gpt-4o-mini-2024-07-18", "0.15"),
        ("openai/gpt-4.1-nano", "0.1"),
        ("GPT-5-MINI", "0.25"),
        ("o3-mini", "1.1"),
        ("claude-3-5-sonnet-20241022", "3"),
        ("claude-sonnet-4-5-20250929", "3"),
        ("claude-opus-4-1-20250805", "15"),
        ("claude-opus-4-5", "5"),
        ("text-embedding-3-small", "0.02"),
    ],
)
def test_the_shipped_table_matches_dated_and_suffixed_names(model, expected_input):
    price = price_table().lookup(model)
    assert price is not None and price.source == "table" and price.currency == "USD"
    assert price.input == D(expected_input)


def test_the_table_does_not_guess():
    table = price_table()
    assert table.lookup("gpt-4") is None  # not a prefix of gpt-4o: no boundary
    assert table.lookup("o1x") is None
    assert table.lookup("llama-3") is None
    assert table.as_of >= "2025-01-01" and len(table) > 30


def test_operator_prices_override_the_table():
    row = {"upstream_model": "gpt-4o", "price_in": D("1"), "price_out": D("2")}
    price = route_price(row)
    assert price is not None and price.source == "route"
    assert (price.input, price.output, price.cached) == (D(1), D(2), None)
    table_only = route_price({"upstream_model": "gpt-4o"})
    assert table_only is not None and table_only.input == D("2.5")
    assert route_price({"upstream_model": "my-local-llm"}) is None
    euro = route_price({"upstream_model": "x", "price_image": D("0.5"), "currency": "EUR"})
    assert euro is not None and euro.currency == "EUR" and euro.of_images(2) == 1


def test_a_custom_table_is_checked():
    table = PriceTable.from_json(b'{"as_of": "2026-01-01", "models": {"m": {"input": "1.5"}}}')
    assert table.lookup("m-v2") == Price(input=D("1.5"), source="table")
    with pytest.raises(ValueError, match="at most six decimals"):
        PriceTable.from_json(b'{"as_of": "x", "models": {"m": {"input": "0.0000001"}}}')


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.50", D("2.5")), (3, D(3)), (0.1, D("0.1")), ("0", D(0)), ("1000000", D(1000000))],
)
def test_prices_are_checked_decimals(value, expected):
    assert check_price("price_in", value) == expected


@pytest.mark.parametrize(
    "value", ["-1", "abc", "NaN", "Infinity", "1000000.000001", "0.0000001", True, None, [1]]
)
def test_bad_prices_are_refused(value):
    with pytest.raises(ValueError, match="price_in"):
        check_price("price_in", value)


def test_currency_codes():
    assert check_currency("eur") == "EUR"
    for bad in ("EURO", "E1R", "", 5, "€€€"):
        with pytest.raises(ValueError, match="three-letter"):
            check_currency(bad)

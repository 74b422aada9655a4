"""Which alias answers a model name: the most specific pattern wins."""

from __future__ import annotations

from lowart.routing._aliases import AliasTable


def test_most_specific_pattern_wins_whatever_the_order():
    pairs = [
        ("*", "default"),
        ("claude-*", "claude-any"),
        ("claude-3*", "claude-three"),
        ("claude-3-5-haiku", "haiku-exact"),
        ("*-haiku-*", "haiku-anywhere"),
        ("gpt-4?", "gpt-four"),
    ]
    for ordering in (pairs, list(reversed(pairs))):
        table = AliasTable(ordering)
        assert table.target("claude-3-5-haiku") == "haiku-exact"
        assert table.target("claude-3-opus") == "claude-three"
        assert table.target("claude-sonnet-4-5") == "claude-any"
        assert table.target("claude-haiku-4-5") == "claude-any"  # longer literal prefix
        assert table.target("my-haiku-1") == "haiku-anywhere"
        assert table.target("gpt-4o") == "gpt-four"
        assert table.target("gpt-4o-mini") == "default"
        assert table.target("anything") == "default"


def test_no_default_means_no_match_and_answers_stay_bounded():
    table = AliasTable({"claude-*": "mock"})
    assert table.target("gpt-4o") is None
    for index in range(10_000):  # names clients invent cannot grow memory without end
        table.target(f"name-{index}")
    assert len(table._answers) <= 4096
    assert table.target("claude-x") == "mock"
    assert not AliasTable() and table

"""A Passthrough given as how to build its body builds it once, and only when an
adapter asks for it (a route that translates never does)."""

from __future__ import annotations

from typing import Any

import pytest

from lowart.types import Passthrough


def test_a_lazy_body_is_built_on_first_use_only():
    built: list[int] = []

    def build() -> dict[str, Any]:
        built.append(1)
        return {"model": "m", "input": "hi"}

    passthrough = Passthrough("responses", build=build)
    assert built == []
    assert passthrough.protocol == "responses" and passthrough.headers == {}
    assert passthrough.body == {"model": "m", "input": "hi"}
    assert passthrough.body is passthrough.body
    assert built == [1]


def test_a_given_body_is_kept_as_is():
    body = {"model": "m"}
    passthrough = Passthrough("anthropic", body, {"anthropic-beta": "x"})
    assert passthrough.body is body
    assert passthrough.headers == {"anthropic-beta": "x"}


def test_a_body_and_how_to_build_it_are_exclusive():
    with pytest.raises(ValueError):
        Passthrough("responses")
    with pytest.raises(ValueError):
        Passthrough("responses", {}, build=dict)

"""Tests for lowart.accounting._tokens (offline tiktoken counting)."""

from __future__ import annotations

import json
import threading

import pytest
import tiktoken

from lowart.accounting import _tokens
from lowart.accounting._tokens import (
    EncodingIntegrityError,
    count_completion_tokens,
    count_prompt_tokens,
    count_text,
    encoding_for_model,
    warm_up,
)

COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more time to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]


def _cookbook_count(messages: list[dict[str, str]], enc: tiktoken.Encoding) -> int:
    """Straight copy of the OpenAI cookbook's num_tokens_from_messages loop."""
    num_tokens = 0
    for message in messages:
        num_tokens += 3
        for key, value in message.items():
            num_tokens += len(enc.encode(value))
            if key == "name":
                num_tokens += 1
    return num_tokens + 3


@pytest.fixture(scope="module")
def cl100k() -> tiktoken.Encoding:
    return encoding_for_model("gpt-4")


@pytest.fixture(scope="module")
def o200k() -> tiktoken.Encoding:
    return encoding_for_model("gpt-4o")


# --------------------------------------------------------------------------- loading


def test_tampered_file_is_rejected(tmp_path):
    data = (_tokens._DATA_DIR / "cl100k_base.tiktoken").read_bytes()
    tampered = tmp_path / "cl100k_base.tiktoken"
    tampered.write_bytes(data.replace(b" 0\n", b" 1\n", 1))
    with pytest.raises(EncodingIntegrityError, match="sha256 mismatch"):
        _tokens._load_encoding("cl100k_base", tampered)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(EncodingIntegrityError, match="cannot read"):
        _tokens._load_encoding("o200k_base", tmp_path / "nope.tiktoken")


def test_unknown_encoding_name():
    with pytest.raises(ValueError, match="unknown encoding"):
        _tokens._load_encoding("p50k_base")


def test_intact_copy_loads(tmp_path, cl100k):
    copy = tmp_path / "copy.tiktoken"
    copy.write_bytes((_tokens._DATA_DIR / "cl100k_base.tiktoken").read_bytes())
    enc = _tokens._load_encoding("cl100k_base", copy)
    assert enc.encode("hello world") == cl100k.encode("hello world")


def test_get_encoding_never_downloads(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("tiktoken.get_encoding must not be used")

    monkeypatch.setattr(tiktoken, "get_encoding", boom)
    assert encoding_for_model("gpt-4").name == "cl100k_base"


def test_loaded_once_same_object():
    a = encoding_for_model("gpt-4o")
    b = encoding_for_model("openai/gpt-4o-mini")
    assert a is b
    assert encoding_for_model("gpt-4") is encoding_for_model("mock")


def test_concurrent_first_load_builds_once(monkeypatch):
    monkeypatch.setattr(_tokens, "_encodings", {})
    calls: list[str] = []
    real = _tokens._load_encoding

    def counting(name, path=None):
        calls.append(name)
        return real(name, path)

    monkeypatch.setattr(_tokens, "_load_encoding", counting)
    results: list[tiktoken.Encoding] = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(encoding_for_model("gpt-4"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["cl100k_base"]
    assert len(results) == 8
    assert all(r is results[0] for r in results)


def test_warm_up_loads_both(monkeypatch):
    monkeypatch.setattr(_tokens, "_encodings", {})
    warm_up()
    assert set(_tokens._encodings) == {"cl100k_base", "o200k_base"}


# --------------------------------------------------------------------------- encodings


def test_known_token_ids(cl100k, o200k):
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k.encode("hello world") == [24912, 2375]


def test_special_tokens_match_tiktoken(cl100k, o200k):
    assert cl100k.encode("<|endoftext|>", allowed_special="all") == [100257]
    assert o200k.encode("<|endoftext|>", allowed_special="all") == [199999]
    assert cl100k.n_vocab == 100277
    assert o200k.n_vocab == 200019


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "The quick brown fox jumps over the lazy dog. 1234567890",
        "  leading and trailing\n\n\twhitespace  ",
        "unicode: héllo wörld — 你好 世界 🚀🚀",
        "def f(x):\n    return x ** 2  # comment\n",
    ],
)
@pytest.mark.parametrize("model", ["gpt-4", "gpt-4o"])
def test_count_text_matches_encode(text, model):
    enc = encoding_for_model(model)
    assert count_text(text, model) == len(enc.encode(text))


def test_count_text_special_token_text_does_not_raise(cl100k, o200k):
    text = "before <|endoftext|> after <|endofprompt|>"
    n = count_text(text, "gpt-4")
    assert n == len(cl100k.encode(text, disallowed_special=()))
    assert n > 2  # spelled out as text, not collapsed into the special tokens
    assert count_text(text, "gpt-4o") == len(o200k.encode(text, disallowed_special=()))


def test_count_text_non_str_does_not_raise():
    assert count_text(12345, "gpt-4") > 0  # type: ignore[arg-type]
    assert count_text(None, "gpt-4") == 0  # type: ignore[arg-type]


# --------------------------------------------------------------------------- model mapping


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("chatgpt-4o-latest", "o200k_base"),
        ("openai/gpt-4o", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("gpt-4.5-preview", "o200k_base"),
        ("o1", "o200k_base"),
        ("o1-mini", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("openai/gpt-5-mini", "o200k_base"),
        ("GPT-4o", "o200k_base"),
        ("ft:gpt-4o-mini:org::abc123", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("openai/gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("mock", "cl100k_base"),
        ("some-unknown-model", "cl100k_base"),
        ("anthropic/claude-3-5-sonnet", "cl100k_base"),
        ("", "cl100k_base"),
    ],
)
def test_model_mapping(model, encoding):
    assert encoding_for_model(model).name == encoding


# --------------------------------------------------------------------------- prompts


def test_cookbook_example_gpt4(cl100k):
    expected = _cookbook_count(COOKBOOK_MESSAGES, cl100k)
    assert expected == 129  # the cookbook's (and the API's) figure for gpt-4
    assert count_prompt_tokens({"messages": COOKBOOK_MESSAGES}, "gpt-4") == 129


def test_cookbook_example_gpt4o(o200k):
    expected = _cookbook_count(COOKBOOK_MESSAGES, o200k)
    assert count_prompt_tokens({"messages": COOKBOOK_MESSAGES}, "gpt-4o") == expected


def test_framing(cl100k):
    msg = {"role": "user", "content": "hi there"}
    base = 3 + len(cl100k.encode("user")) + len(cl100k.encode("hi there"))
    assert count_prompt_tokens({"messages": [msg]}, "gpt-4") == base + 3
    named = {**msg, "name": "bob"}
    assert count_prompt_tokens({"messages": [named]}, "gpt-4") == (
        base + 1 + len(cl100k.encode("bob")) + 3
    )


def test_list_content_parts(cl100k):
    plain = {"messages": [{"role": "user", "content": "describe this picture"}]}
    parts = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "describe this picture"}]}
        ]
    }
    assert count_prompt_tokens(parts, "gpt-4") == count_prompt_tokens(plain, "gpt-4")

    def with_image(detail):
        image = {"url": "https://example.com/cat.png"}
        if detail is not None:
            image["detail"] = detail
        return {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "describe this picture"},
                        {"type": "image_url", "image_url": image},
                    ],
                }
            ]
        }

    base = count_prompt_tokens(plain, "gpt-4")
    assert count_prompt_tokens(with_image("low"), "gpt-4") == base + 85
    assert count_prompt_tokens(with_image("high"), "gpt-4") == base + 765
    assert count_prompt_tokens(with_image(None), "gpt-4") == base + 765


def test_audio_and_unknown_parts_count_json(cl100k):
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    req = {"messages": [{"role": "user", "content": [audio]}]}
    json_text = '{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}'
    user = len(cl100k.encode("user"))
    assert count_prompt_tokens(req, "gpt-4") == 3 + user + len(cl100k.encode(json_text)) + 3


def test_tool_calls_and_tool_messages(cl100k):
    args = '{"city":"Paris","unit":"celsius"}'
    req = {
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": args},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
        ]
    }
    n = len
    e = cl100k.encode
    expected = (
        (3 + n(e("user")) + n(e("weather?")))
        + (3 + n(e("assistant")) + n(e("get_weather")) + n(e(args)))
        + (3 + n(e("tool")) + n(e("18C and sunny")))
        + 3
    )
    assert count_prompt_tokens(req, "gpt-4") == expected


def test_tools_definitions_add_tokens(cl100k):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    msgs = [{"role": "user", "content": "hi"}]
    without = count_prompt_tokens({"messages": msgs}, "gpt-4")
    with_tools = count_prompt_tokens({"messages": msgs, "tools": tools}, "gpt-4")
    compact = json.dumps(tools, separators=(",", ":"), ensure_ascii=False)
    assert with_tools - without == len(cl100k.encode(compact))
    with_functions = count_prompt_tokens(
        {"messages": msgs, "functions": [tools[0]["function"]]}, "gpt-4"
    )
    assert with_functions > without


def test_special_token_text_in_prompt_does_not_raise():
    req = {"messages": [{"role": "user", "content": "<|endoftext|><|im_start|>system"}]}
    assert count_prompt_tokens(req, "gpt-4o") > 6


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"messages": None},
        {"messages": []},
        {"messages": "just a string"},
        {"messages": [None, 42, "str message", ["nested"]]},
        {"messages": [{"role": None, "content": 42}]},
        {"messages": [{"content": {"weird": object()}}]},
        {"messages": [{"role": "user", "content": [None, 3, "raw", {"type": "text"}]}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]},
        {"messages": [{"role": "user", "content": [{"type": "mystery", "x": {1, 2}}]}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": ["a", "b"]}]}]},
        {"messages": [{"role": "assistant", "tool_calls": "not a list"}]},
        {"messages": [{"role": "assistant", "tool_calls": [None, {"function": "x"}, {}]}]},
        {"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": {}}}]}]},
        {"messages": [{"role": "assistant", "function_call": {"name": "f", "arguments": 1}}]},
        {"messages": [{"role": "user", "name": 7, "content": "x"}]},
        {"messages": [{"role": "user", "content": "x"}], "tools": [{"bad": object()}]},
        {"messages": [{"role": "user", "content": "x"}], "tools": "junk"},
        {"messages": [{"role": "user", "content": [{(1, 2): "tuple key"}]}]},
    ],
)
def test_odd_shapes_do_not_raise(request_):
    for model in ("gpt-4", "gpt-4o"):
        assert count_prompt_tokens(request_, model) >= 0


def test_non_mapping_request_does_not_raise():
    assert count_prompt_tokens(None, "gpt-4") == 0  # type: ignore[arg-type]
    assert count_prompt_tokens(["a"], "gpt-4") > 0  # type: ignore[arg-type]


# --------------------------------------------------------------------------- completions


def test_completion_text(cl100k):
    text = "Sure! Here is the answer."
    msg = {"role": "assistant", "content": text}
    assert count_completion_tokens(msg, "gpt-4") == len(cl100k.encode(text))


def test_completion_parts_tool_calls_refusal(o200k):
    args = '{"q":"tokens"}'
    msg = {
        "role": "assistant",
        "content": [{"type": "text", "text": "Looking it up."}],
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "search", "arguments": args}},
            {"index": 1, "function": {"name": "fetch", "arguments": ""}},
        ],
        "refusal": "I can't help with that.",
    }
    e = o200k.encode
    expected = (
        len(e("Looking it up."))
        + len(e("search"))
        + len(e(args))
        + len(e("fetch"))
        + len(e("I can't help with that."))
    )
    assert count_completion_tokens(msg, "gpt-4o") == expected


def test_completion_empty_and_odd():
    assert count_completion_tokens({}, "gpt-4") == 0
    assert count_completion_tokens({"content": None, "refusal": None}, "gpt-4") == 0
    assert count_completion_tokens({"content": 3.5, "tool_calls": [7]}, "gpt-4") > 0
    assert count_completion_tokens(None, "gpt-4") == 0  # type: ignore[arg-type]
    assert count_completion_tokens("raw", "gpt-4") == 1  # type: ignore[arg-type]

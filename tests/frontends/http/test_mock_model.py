"""The mock model as a test double through the official openai SDK: tool calls,
structured outputs and `n`, non-streaming and streaming."""

from __future__ import annotations

import json

import jsonschema
import openai
import pydantic
import pytest

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string"}},
            "required": ["zone"],
        },
    },
}


def client(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)


def _ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_tool_call_then_answer_from_the_tool_result(gateway):
    api = client(gateway)
    messages = _ask("Call get_weather: what is it like in Paris, in fahrenheit?")
    first = api.chat.completions.create(model="mock", messages=messages, tools=[CLOCK, WEATHER])
    (choice,) = first.choices
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"  # the tool the user's words name
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, WEATHER["function"]["parameters"])
    assert arguments["unit"] == "fahrenheit"
    assert "Paris" in arguments["city"]
    assert first.usage.completion_tokens > 0

    again = api.chat.completions.create(model="mock", messages=messages, tools=[CLOCK, WEATHER])
    assert again.choices[0].message.tool_calls[0].model_dump() == call.model_dump()

    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 71 F"},
    ]
    second = api.chat.completions.create(model="mock", messages=messages, tools=[CLOCK, WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.tool_calls is None
    assert second.choices[0].message.content == (
        "This is the lowart mock model. The tool returned: Sunny, 71 F"
    )
    records = gateway.wait_for_records(3)
    assert [r["status"] for r in records] == ["ok"] * 3


def test_tool_choice_none_named_and_spelled_out_arguments(gateway):
    api = client(gateway)
    plain = api.chat.completions.create(
        model="mock", messages=_ask("weather?"), tools=[WEATHER], tool_choice="none"
    )
    assert plain.choices[0].message.tool_calls is None
    assert plain.choices[0].finish_reason == "stop"
    # "auto" (the default): the mock calls a tool only when the user's words name one
    unnamed = api.chat.completions.create(model="mock", messages=_ask("weather?"), tools=[WEATHER])
    assert unnamed.choices[0].message.tool_calls is None
    assert unnamed.choices[0].message.content == "This is the lowart mock model. You said: weather?"
    required = api.chat.completions.create(
        model="mock", messages=_ask("weather?"), tools=[CLOCK, WEATHER], tool_choice="required"
    )
    assert required.choices[0].message.tool_calls[0].function.name == "get_time"  # the first
    named = api.chat.completions.create(
        model="mock",
        messages=_ask('Use get_weather, or rather {"zone": "Europe/Oslo"}'),
        tools=[WEATHER, CLOCK],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    (call,) = named.choices[0].message.tool_calls
    assert call.function.name == "get_time"
    assert json.loads(call.function.arguments) == {"zone": "Europe/Oslo"}
    with pytest.raises(openai.BadRequestError) as raised:
        api.chat.completions.create(
            model="mock",
            messages=_ask("hi"),
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "nope"}},
        )
    assert raised.value.body["param"] == "tool_choice"


def test_streamed_tool_call_in_openai_shape(gateway):
    stream = client(gateway).chat.completions.create(
        model="mock",
        messages=_ask("What time is it in Tokyo? use get_time"),
        tools=[WEATHER, CLOCK],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    head = deltas[0].tool_calls[0]
    assert head.index == 0 and head.id.startswith("call_") and head.type == "function"
    assert head.function.name == "get_time" and head.function.arguments == ""
    pieces = [d.tool_calls[0].function.arguments for d in deltas[1:] if d.tool_calls]
    assert len(pieces) > 1  # the arguments arrive in several chunks
    assert all(d.tool_calls[0].id is None for d in deltas[1:] if d.tool_calls)
    arguments = json.loads("".join(pieces))
    jsonschema.validate(arguments, CLOCK["function"]["parameters"])
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "tool_calls" and set(finishes[:-1]) == {None}
    assert chunks[-1].usage.completion_tokens > 0
    # the same answer as without streaming
    reply = client(gateway).chat.completions.create(
        model="mock",
        messages=_ask("What time is it in Tokyo? use get_time"),
        tools=[WEATHER, CLOCK],
    )
    assert reply.choices[0].message.tool_calls[0].function.arguments == "".join(pieces)
    assert reply.usage.completion_tokens == chunks[-1].usage.completion_tokens


class Step(pydantic.BaseModel):
    explanation: str
    output: str


class Solution(pydantic.BaseModel):
    steps: list[Step]
    final_answer: str
    confidence: float
    kind: str | None


@pytest.mark.parametrize("stream", [False, True])
def test_structured_outputs_satisfy_the_schema(gateway, stream):
    api = client(gateway)
    if not stream:
        parsed = api.chat.completions.parse(
            model="mock", messages=_ask("solve 8x + 7 = -23"), response_format=Solution
        )
        solution = parsed.choices[0].message.parsed
        assert isinstance(solution, Solution) and solution.steps
        assert solution.final_answer == "solve 8x + 7 = -23"
        return
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "integer", "minimum": 5}},
        "required": ["answer", "score"],
        "additionalProperties": False,
    }
    with api.chat.completions.stream(
        model="mock",
        messages=_ask("rate this"),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "rating", "schema": schema, "strict": True},
        },
    ) as events:
        final = events.get_final_completion()
    assert json.loads(final.choices[0].message.content) == {"answer": "rate this", "score": 5}


def test_json_object_mode(gateway):
    reply = client(gateway).chat.completions.create(
        model="mock", messages=_ask("say hi"), response_format={"type": "json_object"}
    )
    assert json.loads(reply.choices[0].message.content) == {
        "reply": "This is the lowart mock model. You said: say hi"
    }


@pytest.mark.parametrize("stream", [False, True])
def test_n_choices(gateway, stream):
    api = client(gateway)
    if stream:
        chunks = list(
            api.chat.completions.create(model="mock", messages=_ask("a b"), n=3, stream=True)
        )
        texts: dict[int, str] = {}
        for chunk in chunks:
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
        assert sorted(texts) == [0, 1, 2]
        assert set(texts.values()) == {"This is the lowart mock model. You said: a b"}
        return
    reply = api.chat.completions.create(
        model="mock", messages=_ask("a b"), n=3, tools=[WEATHER], tool_choice="required"
    )
    assert [c.index for c in reply.choices] == [0, 1, 2]
    ids = {c.message.tool_calls[0].id for c in reply.choices}
    assert len(ids) == 3  # one call per choice, each its own id
    single = api.chat.completions.create(
        model="mock", messages=_ask("a b"), tools=[WEATHER], tool_choice="required"
    )
    assert reply.usage.completion_tokens == 3 * single.usage.completion_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_bounds_are_a_clear_400(gateway, stream):
    api = client(gateway)
    with pytest.raises(openai.BadRequestError) as raised:
        api.chat.completions.create(model="mock", messages=_ask("x"), n=9, stream=stream)
    assert raised.value.body["param"] == "n" and "at most 8" in raised.value.body["message"]
    deep = {"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]}
    tool = {"type": "function", "function": {"name": "deep", "parameters": deep}}
    with pytest.raises(openai.BadRequestError, match="nests deeper"):
        api.chat.completions.create(
            model="mock", messages=_ask("use deep"), tools=[tool], stream=stream
        )
    records = gateway.wait_for_records(2)
    assert [r["http_status"] for r in records] == [400, 400]

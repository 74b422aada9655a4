"""The official openai SDK on /v1/responses: mock, OpenAI-compatible and Anthropic routes."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.support.fake_anthropic import INPUT_TOKENS, TOOL_CALLS, add_anthropic_route
from tests.support.fake_openai import RESPONSES_USAGE, STREAMED_TOOL_CALLS

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def client(gateway, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


@pytest.fixture
def routes(gateway, fake_anthropic):
    fake = gateway.extra["fake"]
    gateway.add_model("fake-tools", "openai", base_url=fake.base_url, upstream_model="tools")
    add_anthropic_route(gateway, fake_anthropic, "claude", "claude-echo")
    add_anthropic_route(gateway, fake_anthropic, "claude-tools", "claude-tools")
    gateway.extra["anthropic"] = fake_anthropic
    return gateway


# ------------------------------------------------------------------ plain and streamed


def test_create_on_mock_is_a_response_with_exact_usage(gateway):
    response = client(gateway).responses.create(
        model="mock", input="Hello there", instructions="Be brief.", metadata={"a": "b"}
    )
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.model == "mock"
    assert response.instructions == "Be brief."
    assert response.metadata == {"a": "b"}
    assert response.output_text == "This is the lowart mock model. You said: Hello there"
    [message] = response.output
    assert message.type == "message" and message.id.startswith("msg_")
    [record] = gateway.wait_for_records(1)
    assert record["interface"] == "responses"
    assert record["stream"] is False
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens) == (
        record["prompt_tokens"],
        record["completion_tokens"],
    )
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0


def test_input_items_with_a_developer_message_and_parts(gateway):
    response = client(gateway).responses.create(
        model="mock",
        input=[
            {"role": "developer", "content": "Answer in French."},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Describe"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                ],
            },
        ],
    )
    assert response.output_text.endswith("You said: Describe")


def test_stream_follows_openais_event_sequence(gateway):
    events = list(client(gateway).responses.create(model="mock", input="Hi you", stream=True))
    types = [event.type for event in events]
    words = "This is the lowart mock model. You said: Hi you".split()
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * len(words),
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].response.status == "in_progress"
    item_id = events[2].item.id
    assert {e.item_id for e in events if e.type == "response.output_text.delta"} == {item_id}
    final = events[-1].response
    assert final.output_text == "This is the lowart mock model. You said: Hi you"
    assert final.id == events[0].response.id
    [record] = gateway.wait_for_records(1)
    assert record["interface"] == "responses" and record["stream"] is True
    assert final.usage.input_tokens == record["prompt_tokens"]
    assert final.usage.output_tokens == record["completion_tokens"] > 0


def test_stream_helper(gateway):
    with client(gateway).responses.stream(model="mock", input="one two") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == "This is the lowart mock model. You said: one two"


def test_max_output_tokens_ends_incomplete(gateway):
    sdk = client(gateway)
    events = list(sdk.responses.create(model="mock", input="a b", max_output_tokens=3, stream=True))
    assert events[-1].type == "response.incomplete"  # as OpenAI ends a cut-off response
    final = events[-1].response
    assert final.output_text == "This is the "
    assert final.incomplete_details.reason == "max_output_tokens"
    plain = sdk.responses.create(model="mock", input="a b", max_output_tokens=3)
    assert plain.status == "incomplete" and plain.output_text == "This is the "


# ------------------------------------------------------------------ function tools


def test_function_tool_loop_with_previous_response_id(routes):
    fake = routes.extra["fake"]
    sdk = client(routes)
    first = sdk.responses.create(
        model="fake-tools", input="Weather in Paris?", tools=[WEATHER], tool_choice="auto"
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.id.startswith("fc_")
    assert (call.name, call.call_id, call.arguments) == (
        "get_weather",
        "call_1",
        '{"city":"Paris"}',
    )
    assert fake.requests[-1]["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER["parameters"],
            },
        }
    ]
    second = sdk.responses.create(
        model="fake",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "call_1", "output": "22 C, sunny"}],
        tools=[WEATHER],
    )
    assert second.output_text == "echo: 22 C, sunny"
    assert second.previous_response_id == first.id
    sent = fake.requests[-1]["messages"]
    assert sent[0] == {"role": "user", "content": "Weather in Paris?"}
    assert sent[1]["role"] == "assistant"
    assert sent[1]["tool_calls"][0]["id"] == "call_1"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "22 C, sunny"}
    items = sdk.responses.input_items.list(second.id, order="asc").data
    assert [item.type for item in items] == ["message", "function_call", "function_call_output"]


def test_function_tool_loop_on_the_mock(gateway):
    sdk = client(gateway)
    first = sdk.responses.create(
        model="mock", input='Call get_weather with {"city": "Oslo"}', tools=[WEATHER], store=False
    )
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Oslo"}
    second = sdk.responses.create(
        model="mock",
        tools=[WEATHER],
        input=[
            {"role": "user", "content": 'Call get_weather with {"city": "Oslo"}'},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "-3 C, snow"},
        ],
    )
    assert second.output_text == "This is the lowart mock model. The tool returned: -3 C, snow"


def test_streamed_tool_call_on_the_mock(gateway):
    events = list(
        client(gateway).responses.create(
            model="mock", input="get_weather please", tools=[WEATHER], stream=True
        )
    )
    types = [e.type for e in events]
    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert "response.function_call_arguments.delta" in types
    assert types[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    [call] = events[-1].response.output
    assert call.type == "function_call" and isinstance(json.loads(call.arguments)["city"], str)


def test_text_format_json_schema_on_the_mock(gateway):
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    response = client(gateway).responses.create(
        model="mock",
        input="A person",
        text={
            "format": {"type": "json_schema", "name": "person", "schema": schema, "strict": True}
        },
    )
    value = json.loads(response.output_text)
    assert set(value) == {"name", "age"} and isinstance(value["age"], int)
    assert response.text.format.type == "json_schema"


def test_streamed_parallel_function_calls(routes):
    events = list(
        client(routes).responses.create(
            model="fake-tools", input="Weather and time", tools=[WEATHER], stream=True
        )
    )
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert [(e.name, e.arguments) for e in done] == [
        (name, arguments) for _, name, arguments in STREAMED_TOOL_CALLS
    ]
    final = events[-1].response
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.call_id, c.name) for c in calls] == [(i, n) for i, n, _ in STREAMED_TOOL_CALLS]
    assert final.output[0].type == "message" and final.output_text == "Checking. "
    assert [e.sequence_number for e in events] == list(range(len(events)))
    added = [e.output_index for e in events if e.type == "response.output_item.added"]
    assert added == [0, 1, 2]


def test_codex_style_request_is_translated(routes):
    """What Codex sends: namespace and custom tools, hosted tools, reasoning, include..."""
    fake = routes.extra["fake"]
    body = {
        "model": "fake-tools",
        "instructions": "You are Codex.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ls"}]},
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAAA-secret"},
        ],
        "tools": [
            {"type": "function", "name": "shell", "parameters": {"type": "object"}},
            {
                "type": "namespace",
                "name": "mcp_files",
                "description": "files",
                "tools": [{"type": "function", "name": "read", "parameters": {"type": "object"}}],
            },
            {"type": "custom", "name": "apply_patch", "description": "patch"},
            {"type": "web_search"},
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "abc",
        "client_metadata": {"x": "y"},
    }
    with httpx.stream(
        "POST",
        routes.openai_base_url + "/responses",
        json=body,
        headers={"Authorization": f"Bearer {routes.admin_key}"},
    ) as reply:
        assert reply.status_code == 200
        text = reply.read().decode()
    assert "event: response.completed" in text
    sent = fake.requests[-1]
    names = [tool["function"]["name"] for tool in sent["tools"]]
    assert names == ["shell", "mcp_files__read", "apply_patch"]
    assert sent["parallel_tool_calls"] is False
    assert sent["messages"][0] == {"role": "system", "content": "You are Codex."}
    for field in ("include", "client_metadata", "prompt_cache_key", "store", "reasoning"):
        assert field not in sent
    assert "gAAAA-secret" not in str(sent)


# ------------------------------------------------------------------ stored responses


def test_retrieve_delete_and_other_keys(gateway):
    sdk = client(gateway)
    created = sdk.responses.create(model="mock", input="keep me")
    assert sdk.responses.retrieve(created.id).output_text == created.output_text
    items = sdk.responses.input_items.list(created.id)
    assert [item.content[0].text for item in items.data] == ["keep me"]
    assert items.first_id == items.last_id == items.data[0].id and items.has_more is False
    other = client(gateway, gateway.create_key("other"))
    for call in (
        lambda: other.responses.retrieve(created.id),
        lambda: other.responses.delete(created.id),
        lambda: other.responses.input_items.list(created.id),
        lambda: other.responses.create(model="mock", input="x", previous_response_id=created.id),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


def test_store_false_keeps_nothing(gateway):
    sdk = client(gateway)
    created = sdk.responses.create(model="mock", input="forget me", store=False)
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


def test_input_items_pages(gateway):
    sdk = client(gateway)
    words = [{"role": "user", "content": f"m{i}"} for i in range(5)]
    created = sdk.responses.create(model="mock", input=words)
    page = sdk.responses.input_items.list(created.id, limit=2, order="asc")
    assert [i.content[0].text for i in page.data] == ["m0", "m1"] and page.has_more
    texts = [i.content[0].text for i in sdk.responses.input_items.list(created.id, limit=2)]
    assert texts == ["m4", "m3", "m2", "m1", "m0"]  # the SDK follows the pages


def test_background_runs_and_is_polled(gateway):
    sdk = client(gateway)
    queued = sdk.responses.create(model="mock", input="later", background=True)
    assert queued.status == "queued" and queued.background is True
    response = _poll(sdk, queued.id, ("completed",))
    assert response.output_text.endswith("You said: later")
    [record] = gateway.wait_for_records(1)
    assert record["status"] == "ok" and record["interface"] == "responses"
    assert response.usage.output_tokens == record["completion_tokens"]


def test_background_cancel_records_tokens_so_far(gateway):
    gateway.add_model("slowmock", "mock", options={"delay": 0.1})
    sdk = client(gateway)
    queued = sdk.responses.create(model="slowmock", input=" ".join(["word"] * 50), background=True)
    _poll(sdk, queued.id, ("in_progress",))
    time.sleep(0.5)
    cancelled = sdk.responses.cancel(queued.id)
    assert cancelled.status == "cancelled"
    assert sdk.responses.retrieve(queued.id).status == "cancelled"
    [record] = gateway.wait_for_records(1)
    assert record["status"] == "cancelled"
    assert record["completion_tokens"] > 0 and record["prompt_tokens"] > 0
    with pytest.raises(openai.BadRequestError):
        sdk.responses.cancel(sdk.responses.create(model="mock", input="x").id)


def _poll(sdk, response_id, statuses, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        response = sdk.responses.retrieve(response_id)
        if response.status in statuses or time.monotonic() > deadline:
            assert response.status in statuses
            return response
        time.sleep(0.05)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "mock"}, "input"),
        ({"model": "mock", "input": 5}, "input"),
        ({"model": "mock", "input": [{"type": "bogus"}]}, "input[0].type"),
        ({"model": "mock", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "mock", "input": "x", "text": {"format": {"type": "xml"}}}, "text.format.type"),
        ({"model": "mock", "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": "mock", "input": "x", "background": True, "store": False}, "background"),
    ],
)
def test_bad_input_is_an_openai_400(gateway, body, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client(gateway).post("/responses", cast_to=httpx.Response, body=body)
    error = caught.value.body
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_unknown_model_and_unknown_previous_response_are_404(gateway):
    sdk = client(gateway)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.create(model="nope", input="x")
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        sdk.responses.create(model="mock", input="x", previous_response_id="resp_missing")
    with pytest.raises(openai.AuthenticationError):
        client(gateway, "la-wrong").responses.create(model="mock", input="x")
    assert gateway.usage_records() == []


def test_failure_after_first_byte_is_response_failed(routes):
    routes.add_model(
        "fake-drop", "openai", base_url=routes.extra["fake"].base_url, upstream_model="drop"
    )
    events = list(client(routes).responses.create(model="fake-drop", input="x", stream=True))
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    assert events[-1].response.status == "failed"
    assert events[-1].response.error.code == "server_error"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.output_text.startswith("w0 w1 w2")


# ------------------------------------------------------------------ anthropic routes


def test_anthropic_route_translated(routes):
    response = client(routes).responses.create(
        model="claude", input="Bonjour", instructions="Be kind.", max_output_tokens=50
    )
    assert response.output_text == "echo: Bonjour"
    assert response.usage.input_tokens == INPUT_TOKENS
    sent = routes.extra["anthropic"].requests[-1]
    assert sent["system"] == "Be kind." and sent["max_tokens"] == 50
    [record] = routes.wait_for_records(1)
    assert record["vendor"] == "anthropic" and record["interface"] == "responses"


def test_anthropic_route_streams_tool_calls(routes):
    events = list(
        client(routes).responses.create(
            model="claude-tools", input="weather", tools=[WEATHER], stream=True
        )
    )
    final = events[-1].response
    assert final.status == "completed"
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.call_id, c.name) for c in calls] == [(i, n) for i, n, _ in TOOL_CALLS]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.usage.input_tokens == INPUT_TOKENS


# ------------------------------------------------------------------ native upstreams


@pytest.fixture
def native(gateway):
    fake = gateway.extra["fake"]
    for name, upstream in (("native", "echo"), ("native-tools", "tools")):
        gateway.add_model(
            name,
            "openai",
            base_url=fake.base_url,
            upstream_model=upstream,
            api_key="sk-upstream-secret",
            options={"responses": "native"},
        )
    return gateway


def test_native_route_passes_the_body_through(native):
    fake = native.extra["fake"]
    sdk = client(native)
    first = sdk.responses.create(
        model="native", input="hi", instructions="Be brief.", metadata={"k": "v"}
    )
    assert first.output_text == "echo: hi"
    assert first.id.startswith("resp_") and first.id != "resp_upstream1"
    assert first.model == "native"
    assert first.usage.input_tokens == RESPONSES_USAGE["input_tokens"]
    assert first.usage.input_tokens_details.cached_tokens == 8
    assert first.usage.output_tokens_details.reasoning_tokens == 4
    sent = fake.requests[-1]
    assert sent["model"] == "echo" and sent["store"] is False
    assert sent["instructions"] == "Be brief." and sent["metadata"] == {"k": "v"}
    assert fake.headers[-1]["Authorization"] == "Bearer sk-upstream-secret"
    second = sdk.responses.create(model="native", input="and now", previous_response_id=first.id)
    assert second.output_text == "echo: and now"
    sent = fake.requests[-1]
    assert "previous_response_id" not in sent
    assert [item["type"] for item in sent["input"]] == ["message", "message", "message"]
    assert sent["input"][1]["content"][0]["text"] == "echo: hi"  # the stored output, inline
    assert not any("id" in item for item in sent["input"])  # nothing to look up upstream
    records = native.wait_for_records(2)
    assert [
        (r["prompt_tokens"], r["completion_tokens"], r["cache_read_tokens"]) for r in records
    ] == [(21, 9, 8)] * 2
    assert {r["interface"] for r in records} == {"responses"}
    assert [json.loads(r["extra"]) for r in records] == [{"reasoning_tokens": 4}] * 2


def test_native_route_streams_the_upstreams_events(native):
    sdk = client(native)
    with sdk.responses.stream(model="native", input="stream me") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert final.output_text == "echo: stream me"
    assert final.model == "native" and final.id == events[0].response.id != "resp_upstream1"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert sdk.responses.retrieve(final.id).output_text == "echo: stream me"
    [record] = native.wait_for_records(1)
    assert (record["prompt_tokens"], record["completion_tokens"]) == (21, 9)
    assert record["stream"] is True
    calls = list(sdk.responses.create(model="native-tools", input="w", stream=True))
    assert calls[-1].response.output[0].type == "function_call"


def test_native_option_leaves_chat_completions_alone(native):
    reply = client(native).chat.completions.create(
        model="native", messages=[{"role": "user", "content": "plain"}]
    )
    assert reply.choices[0].message.content == "echo: plain"

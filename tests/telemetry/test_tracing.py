"""Traces exported over OTLP/HTTP to a real receiver on loopback, decoded on arrival:
one span per request and per upstream attempt, Lua and usage spans under them, the
GenAI attributes, and the caller's W3C traceparent continued and sent upstream."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import openai
import pytest

from lowart._proto import chat_pb2, chat_pb2_grpc
from tests.support.fake_openai import FakeOpenAI
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.support.servers import (
    GatewayHandle,
    LoopThread,
    start_gateway,
    stop_gateway,
    test_settings,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
SERVER, CLIENT = 2, 3  # OTLP span kinds
ERROR = 2  # OTLP status code

SCRIPT = "function request(p, ctx) p.temperature = 0.5 return p end"


@pytest.fixture
def receiver(loop_thread: LoopThread) -> Iterator[OtlpReceiver]:
    found = OtlpReceiver()
    loop_thread.run(found.start())
    yield found
    loop_thread.run(found.stop())


@pytest.fixture
def traced(
    loop_thread: LoopThread, tmp_path, fake_openai: FakeOpenAI, receiver: OtlpReceiver
) -> Iterator[GatewayHandle]:
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_SERVICE_NAME": "lowart-under-test",
    }
    handle = start_gateway(loop_thread, test_settings(tmp_path, otel=otel))
    handle.add_model(
        "scripted", "openai", base_url=fake_openai.base_url, upstream_model="echo", script=SCRIPT
    )
    handle.add_model(
        "down",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="fail-503",
        options={"retries": 0},
    )
    yield handle
    stop_gateway(handle)


def one(spans: list[ReceivedSpan], trace_id: str) -> ReceivedSpan:
    (span,) = [s for s in spans if s.trace_id == trace_id]
    return span


def test_a_chat_call_continues_the_callers_trace(
    traced: GatewayHandle, receiver: OtlpReceiver, fake_openai: FakeOpenAI
):
    api = openai.OpenAI(base_url=traced.openai_base_url, api_key=traced.admin_key, max_retries=0)
    api.chat.completions.create(
        model="scripted",
        messages=[{"role": "user", "content": "hello"}],
        max_tokens=20,
        extra_headers={"traceparent": TRACEPARENT},
    )
    server = one(receiver.wait_for("POST /v1/chat/completions"), TRACE_ID)
    attempt = one(receiver.wait_for("chat echo"), TRACE_ID)
    lua = one(receiver.wait_for("lua request"), TRACE_ID)
    usage = one(receiver.wait_for("lowart.usage.record"), TRACE_ID)

    assert server.kind == SERVER and server.parent_span_id == CALLER_SPAN
    assert server.service == "lowart-under-test"
    attributes = server.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "scripted"
    assert attributes["gen_ai.request.max_tokens"] == 20
    assert attributes["gen_ai.response.model"] == "echo"
    assert attributes["gen_ai.provider.name"] == "openai"
    (record,) = traced.usage_records()
    assert attributes["gen_ai.usage.input_tokens"] == record["prompt_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] == record["completion_tokens"] > 0
    assert attributes["http.response.status_code"] == 200
    assert attributes["lowart.request_id"] == record["request_id"]

    assert attempt.kind == CLIENT and attempt.parent_span_id == server.span_id
    assert attempt.attributes["gen_ai.request.model"] == "echo"
    assert attempt.attributes["gen_ai.system"] == "openai"
    assert attempt.attributes["lowart.route"] == "scripted"
    assert lua.parent_span_id == attempt.span_id
    assert lua.attributes["lowart.phase"] == "request"
    assert usage.parent_span_id == server.span_id

    # The upstream got the trace too, as a child of the attempt's span.
    assert fake_openai.headers[-1]["traceparent"] == f"00-{TRACE_ID}-{attempt.span_id}-01"
    assert fake_openai.requests[-1]["temperature"] == 0.5  # the script really ran

    text = traced.runtime.metrics.exposition()[0].decode()  # the script's calls are counted
    assert 'lowart_lua_calls_total{phase="request",route="scripted"} 1.0' in text
    assert 'lowart_lua_seconds_count{phase="request",route="scripted"} 1.0' in text

    writes = receiver.wait_for("lowart.usage.write")
    assert writes and writes[0].attributes["lowart.usage.rows"] >= 1


def test_a_failed_attempt_and_a_stream(traced: GatewayHandle, receiver: OtlpReceiver):
    api = openai.OpenAI(base_url=traced.openai_base_url, api_key=traced.admin_key, max_retries=0)
    with pytest.raises(openai.APIStatusError):
        api.chat.completions.create(
            model="down",
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"traceparent": TRACEPARENT},
        )
    attempt = one(receiver.wait_for("chat fail-503"), TRACE_ID)
    assert attempt.status_code == ERROR
    assert attempt.attributes["error.type"] == "status_503"
    server = one(receiver.wait_for("POST /v1/chat/completions"), TRACE_ID)
    assert server.status_code == ERROR and server.attributes["http.response.status_code"] == 502

    chunks = list(
        api.chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "y"}], stream=True
        )
    )
    assert chunks
    servers = receiver.wait_for("POST /v1/chat/completions", count=2)
    stream = [s for s in servers if s.trace_id != TRACE_ID]
    assert len(stream) == 1 and stream[0].parent_span_id == ""  # a new trace of its own
    assert stream[0].attributes["lowart.stream"] is True
    assert stream[0].attributes["gen_ai.usage.output_tokens"] > 0


def test_grpc_metadata_traceparent(
    traced: GatewayHandle, receiver: OtlpReceiver, fake_openai: FakeOpenAI
):
    traced.start_grpc()
    with grpc.insecure_channel(traced.grpc_target) as channel:
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        messages = list(
            stub.StreamChatCompletion(
                chat_pb2.StreamChatCompletionRequest(
                    model="scripted",
                    messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")],
                ),
                metadata=(
                    ("authorization", f"Bearer {traced.admin_key}"),
                    ("traceparent", TRACEPARENT),
                ),
                timeout=10,
            )
        )
    assert messages
    # gRPC calls are counted like any other (metrics are on by default).
    text, _ = traced.runtime.metrics.exposition()
    assert (
        'lowart_requests_total{code="",interface="grpc",route="scripted",'
        'status_class="2xx",vendor="openai"} 1.0'
    ) in text.decode()
    server = one(receiver.wait_for("grpc StreamChatCompletion"), TRACE_ID)
    assert server.parent_span_id == CALLER_SPAN
    attempt = one(receiver.wait_for("chat echo"), TRACE_ID)
    assert attempt.parent_span_id == server.span_id
    assert fake_openai.headers[-1]["traceparent"] == f"00-{TRACE_ID}-{attempt.span_id}-01"


def test_without_tracing_the_callers_traceparent_still_reaches_the_upstream(
    gateway: GatewayHandle, fake_openai: FakeOpenAI
):
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    api.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "x"}],
        extra_headers={"traceparent": TRACEPARENT},
    )
    assert fake_openai.headers[-1]["traceparent"] == TRACEPARENT
    api.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "x"}],
        extra_headers={"traceparent": "00-not-a-trace-context"},
    )
    assert "traceparent" not in fake_openai.headers[-1]  # only a valid one is forwarded


def test_without_otel_settings_the_sdk_is_never_imported(tmp_path):
    """Zero cost when off: serving a request loads no OpenTelemetry SDK module."""
    program = f"""
import asyncio, sys
from lowart.app import Runtime
from lowart.config import Settings
from lowart.types import CallContext

async def main():
    settings = Settings(database_url="sqlite+aiosqlite:///{tmp_path}/t.db",
                        secret_key="s", data_dir=__import__("pathlib").Path("{tmp_path}"))
    runtime = await Runtime.open(settings, background=False)
    try:
        principal = await runtime.authenticator.authenticate(
            (await runtime.admin.create_key("k"))[0])
        ctx = CallContext(request_id="r", interface="http", traceparent="{TRACEPARENT}")
        runtime.gateway.begin_request(ctx, "test")
        await runtime.gateway.complete(
            principal, {{"model": "mock", "messages": [{{"role": "user", "content": "hi"}}]}}, ctx)
        runtime.gateway.end_request(ctx, 200)
    finally:
        await runtime.close()
    loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
    print(loaded)
    assert not loaded, loaded

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_unsampled_requests_export_nothing(
    loop_thread: LoopThread, tmp_path, fake_openai: FakeOpenAI, receiver: OtlpReceiver
):
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_TRACES_SAMPLER": "always_off"}
    handle = start_gateway(loop_thread, test_settings(tmp_path, otel=otel))
    try:
        handle.add_model("fake", "openai", base_url=fake_openai.base_url, upstream_model="echo")
        api = openai.OpenAI(
            base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0
        )
        api.chat.completions.create(
            model="fake",
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"traceparent": TRACEPARENT},
        )
        assert handle.runtime.tracing.enabled
    finally:
        stop_gateway(handle)  # shuts the exporter down: anything buffered is sent now
    assert receiver.spans == []
    assert fake_openai.headers[-1]["traceparent"] == TRACEPARENT  # passed on as it came

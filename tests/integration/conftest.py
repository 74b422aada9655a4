"""Where features meet: one live gateway serving HTTP (OpenAI and Anthropic APIs),
gRPC and MCP at once, with a fake OpenAI and a fake Anthropic upstream.

Each test drives it with the official clients (openai, anthropic, grpcio stubs,
the mcp SDK), so what is checked is what a user of two features together sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import grpc
import openai
import pytest

from lowart._proto import chat_pb2, chat_pb2_grpc
from tests.support.fake_anthropic import FakeAnthropic, add_anthropic_route
from tests.support.servers import GatewayHandle

# Resilience options that keep retries fast in tests.
FAST = {"retry_backoff": 0.01, "retry_backoff_max": 0.05}


@pytest.fixture
def live(gateway: GatewayHandle, fake_anthropic: FakeAnthropic) -> GatewayHandle:
    """The gateway with gRPC on loopback and `claude`, an anthropic route to the fake."""
    gateway.start_grpc()
    add_anthropic_route(gateway, fake_anthropic, "claude", "claude-echo")
    gateway.extra["anthropic"] = fake_anthropic
    return gateway


@pytest.fixture
def chat(live: GatewayHandle) -> Iterator[chat_pb2_grpc.ChatServiceStub]:
    with grpc.insecure_channel(live.grpc_target) as channel:
        yield chat_pb2_grpc.ChatServiceStub(channel)


def openai_client(gateway: GatewayHandle, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def anthropic_client(gateway: GatewayHandle, key: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=gateway.base_url, api_key=key or gateway.admin_key, max_retries=0
    )


def grpc_auth(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def user(text: str) -> chat_pb2.Message:
    return chat_pb2.Message(role=chat_pb2.ROLE_USER, content=text)


def mcp_url(gateway: GatewayHandle) -> str:
    return gateway.base_url + "/mcp"


def set_script(gateway: GatewayHandle, model: str, source: str | None) -> None:
    """Upload a route's script through the admin API, as an operator would."""
    status, body = gateway.admin_call("PATCH", f"/admin/models/{model}", {"script": source})
    assert status == 200, body


def records(gateway: GatewayHandle, count: int) -> list[dict[str, Any]]:
    """Exactly `count` usage records (waiting for streams to record), `extra` decoded."""
    found = gateway.wait_for_records(count)
    assert len(found) == count, found
    for record in found:
        record["extra"] = json.loads(record["extra"]) if record["extra"] else None
    return found

"""A live gateway serving A2A over HTTP (JSON-RPC, REST) and gRPC (TCP, Unix socket),
and the official `a2a-sdk` client for each binding."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientCallContext, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import AgentCard, Message, Part, Role, SendMessageRequest, StreamResponse

from tests.support.servers import GatewayHandle, LoopThread, start_gateway, stop_gateway
from tests.support.servers import test_settings as settings_for

BINDINGS = ("JSONRPC", "HTTP+JSON", "GRPC")
LONG_REPLY = " ".join(f"word{i}" for i in range(200))  # 4 s at 20 ms a word


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """Unix socket paths must stay under ~100 bytes, which pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="lowart-a2a-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start_a2a_gateway(
    loop: LoopThread,
    tmp_path: Path,
    short_dir: Path,
    *,
    restarted: bool = False,
    **overrides: Any,
) -> GatewayHandle:
    """A gateway with A2A on HTTP and gRPC; `restarted`: a new one on an existing database."""
    options: dict[str, Any] = {
        "grpc_uds": str(short_dir / "grpc.sock"),
        "a2a_push_allow_private": True,  # the test webhooks listen on loopback
        "a2a_push_attempts": 2,
        "a2a_push_timeout": 2.0,
    }
    settings = settings_for(tmp_path, **{**options, **overrides})
    handle = start_gateway(loop, settings, "restart-admin" if restarted else "test-admin")

    async def start_grpc():
        listener = handle.runtime.grpc_listener()
        assert listener is not None
        await listener.start()
        return listener

    handle.grpc = handle.run(start_grpc())
    if restarted:
        return handle
    handle.add_model("echo", "mock")
    handle.add_model("slow", "mock", options={"delay": 0.05})
    handle.add_model("long", "mock", options={"delay": 0.02, "reply": LONG_REPLY})
    return handle


@pytest.fixture
def a2a_gateway(
    loop_thread: LoopThread, tmp_path: Path, short_dir: Path
) -> Iterator[GatewayHandle]:
    handle = start_a2a_gateway(loop_thread, tmp_path, short_dir)
    yield handle
    stop_gateway(handle)


@dataclass
class Agent:
    """An a2a-sdk client for one route over one binding, with the caller's key."""

    client: Client
    card: AgentCard
    key: str
    binding: str

    @property
    def ctx(self) -> ClientCallContext:
        return ClientCallContext(service_parameters={"authorization": f"Bearer {self.key}"})

    async def send(self, text: str, **message: Any) -> list[StreamResponse]:
        return await self.events(SendMessageRequest(message=user_message(text, **message)))

    async def events(self, request: SendMessageRequest) -> list[StreamResponse]:
        return [event async for event in self.client.send_message(request, context=self.ctx)]


def user_message(text: str, **fields: Any) -> Message:
    import uuid

    return Message(
        message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text=text)], **fields
    )


async def route_card(handle: GatewayHandle, model: str, key: str) -> AgentCard:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        resolver = A2ACardResolver(http, f"{handle.base_url}/a2a/{model}")
        return await resolver.get_agent_card()


@asynccontextmanager
async def agent(
    handle: GatewayHandle,
    model: str,
    binding: str,
    *,
    key: str | None = None,
    streaming: bool = False,
    uds: bool = False,
) -> AsyncIterator[Agent]:
    """Discover the route from its card, then a client on `binding` (gRPC: TCP or socket)."""
    key = key or handle.admin_key
    card = await route_card(handle, model, key)
    if uds:  # the card lists the socket second; a client that can use it picks it
        chosen = [i for i in card.supported_interfaces if i.url.startswith("unix:")]
        assert chosen, "the card lists no Unix-socket interface"
        others = [i for i in card.supported_interfaces if not i.url.startswith("unix:")]
        del card.supported_interfaces[:]
        card.supported_interfaces.extend([*chosen, *others])
    async with httpx.AsyncClient(timeout=30) as http:
        config = ClientConfig(
            streaming=streaming,
            httpx_client=http,
            supported_protocol_bindings=[binding],
            grpc_channel_factory=grpc.aio.insecure_channel,
        )
        client = ClientFactory(config).create(card)
        try:
            yield Agent(client, card, key, binding)
        finally:
            await client.close()

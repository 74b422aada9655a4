"""A live gateway serving gRPC on loopback TCP and a Unix socket, and channels to it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from lowart._proto import chat_pb2_grpc, models_pb2_grpc
from tests.support.servers import GatewayHandle


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """Unix socket paths must stay under ~100 bytes, which pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="lowart-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def grpc_gateway(gateway: GatewayHandle, short_dir: Path) -> GatewayHandle:
    gateway.start_grpc(uds=str(short_dir / "grpc.sock"))
    return gateway


def target_for(handle: GatewayHandle, transport: str) -> str:
    assert handle.grpc is not None
    return f"unix://{handle.grpc.uds}" if transport == "uds" else handle.grpc_target


@pytest.fixture(params=["tcp", "uds"])
def channel(request: pytest.FixtureRequest, grpc_gateway: GatewayHandle) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(target_for(grpc_gateway, request.param)) as chan:
        yield chan


@pytest.fixture
def tcp_channel(grpc_gateway: GatewayHandle) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(grpc_gateway.grpc_target) as chan:
        yield chan


@pytest.fixture
def chat(channel: grpc.Channel) -> chat_pb2_grpc.ChatServiceStub:
    return chat_pb2_grpc.ChatServiceStub(channel)


@pytest.fixture
def tcp_chat(tcp_channel: grpc.Channel) -> chat_pb2_grpc.ChatServiceStub:
    return chat_pb2_grpc.ChatServiceStub(tcp_channel)


@pytest.fixture
def models(channel: grpc.Channel) -> models_pb2_grpc.ModelServiceStub:
    return models_pb2_grpc.ModelServiceStub(channel)


def auth(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)

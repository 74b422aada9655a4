"""gRPC connections that never finish their HTTP/2 handshake are closed (slow-loris)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from lowart._proto import chat_pb2, chat_pb2_grpc
from tests.frontends.grpc.conftest import auth
from tests.support.servers import GatewayHandle, start_gateway, stop_gateway, test_settings

HEAD_TIMEOUT = 0.5


@pytest.fixture
def grpc_gateway(loop_thread, tmp_path, short_dir: Path) -> Iterator[GatewayHandle]:
    handle = start_gateway(loop_thread, test_settings(tmp_path, http_head_timeout=HEAD_TIMEOUT))
    handle.start_grpc(uds=str(short_dir / "grpc.sock"))
    yield handle
    stop_gateway(handle)


@pytest.mark.parametrize("transport", ["tcp", "uds"])
@pytest.mark.parametrize("sent", [b"", b"PRI * HTTP/2.0\r\n"])
def test_an_unfinished_handshake_is_closed_after_the_head_timeout(grpc_gateway, transport, sent):
    assert grpc_gateway.grpc is not None
    if transport == "uds":
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(grpc_gateway.grpc.uds)
    else:
        sock = socket.create_connection(("127.0.0.1", grpc_gateway.grpc.port))
    sock.settimeout(10)  # grpc's own default handshake timeout is 120 s
    started = time.monotonic()
    sock.sendall(sent)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    assert time.monotonic() - started < HEAD_TIMEOUT + 3


def test_a_connected_channel_outlives_the_head_timeout(grpc_gateway):
    with grpc.insecure_channel(grpc_gateway.grpc_target) as channel:
        chat = chat_pb2_grpc.ChatServiceStub(channel)
        request = chat_pb2.CreateChatCompletionRequest(
            model="mock", messages=[chat_pb2.Message(role=chat_pb2.ROLE_USER, content="hi")]
        )
        metadata = auth(grpc_gateway.admin_key)
        chat.CreateChatCompletion(request, metadata=metadata, timeout=10)
        time.sleep(HEAD_TIMEOUT * 3)
        chat.CreateChatCompletion(request, metadata=metadata, timeout=10)

"""Slow-loris protection: connections that never finish a request head, or sit idle,
are closed; slow but valid requests and long streams are not."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest

from tests.support.servers import GatewayHandle, start_gateway, stop_gateway, test_settings

HEAD_TIMEOUT = 0.5
KEEPALIVE_TIMEOUT = 3.0
HEAD_CLOSED_BEFORE = KEEPALIVE_TIMEOUT - 1  # so the head deadline, not keep-alive, closed it


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """Unix socket paths must stay under ~100 bytes, which pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="lowart-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def gateway(loop_thread, tmp_path, short_dir, fake_openai) -> Iterator[GatewayHandle]:
    settings = test_settings(
        tmp_path,
        uds=str(short_dir / "gw.sock"),
        http_head_timeout=HEAD_TIMEOUT,
        http_keepalive_timeout=KEEPALIVE_TIMEOUT,
    )
    handle = start_gateway(loop_thread, settings)
    handle.add_model("fake", "openai", base_url=fake_openai.base_url, upstream_model="echo")
    handle.extra["uds"] = settings.uds
    yield handle
    stop_gateway(handle)


def connect(gateway: GatewayHandle, family: str) -> socket.socket:
    if family == "unix":
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(gateway.extra["uds"])
    else:
        sock = socket.create_connection(("127.0.0.1", gateway.listener.port))
    sock.settimeout(0.05)
    return sock


def seconds_until_closed(sock: socket.socket, trickle: bytes = b"", limit: float = 10) -> float:
    """Wait for the server to close `sock`, sending `trickle` every 50 ms meanwhile."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            if trickle:
                sock.sendall(trickle)
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    pytest.fail(f"the server kept the connection open for {limit} s")


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response with a Content-Length: (status line, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += _recv(sock)
    return head.split(b"\r\n", 1)[0], body


def _recv(sock: socket.socket) -> bytes:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        assert chunk, "closed mid-response"
        return chunk
    pytest.fail("no response")


@pytest.mark.parametrize("family", ["tcp", "unix"])
def test_a_partial_request_head_is_closed_after_the_head_timeout(gateway, family):
    sock = connect(gateway, family)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: lowart\r\n")
    elapsed = seconds_until_closed(sock, trickle=b"")
    assert HEAD_TIMEOUT * 0.8 <= elapsed < HEAD_CLOSED_BEFORE
    sock.close()


@pytest.mark.parametrize("family", ["tcp", "unix"])
def test_a_head_trickled_byte_by_byte_is_closed_too(gateway, family):
    sock = connect(gateway, family)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: lowart\r\nX-Slow: ")
    elapsed = seconds_until_closed(sock, trickle=b"a")
    assert elapsed < HEAD_CLOSED_BEFORE
    sock.close()


def test_a_connection_that_sends_nothing_is_closed(gateway):
    sock = connect(gateway, "tcp")
    assert seconds_until_closed(sock) < HEAD_CLOSED_BEFORE
    sock.close()


@pytest.mark.parametrize("family", ["tcp", "unix"])
def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(gateway, family):
    sock = connect(gateway, family)
    for _ in range(2):  # the head deadline only concerns the first request
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: lowart\r\n\r\n")
        status, _body = read_response(sock)
        assert status == b"HTTP/1.1 200 OK"
        time.sleep(HEAD_TIMEOUT * 1.5)
    elapsed = seconds_until_closed(sock) + HEAD_TIMEOUT * 1.5
    assert KEEPALIVE_TIMEOUT * 0.8 <= elapsed < KEEPALIVE_TIMEOUT + 2
    sock.close()


def test_a_slow_but_valid_request_body_is_served(gateway):
    body = orjson.dumps({"model": "mock", "messages": [{"role": "user", "content": "slow" * 50}]})
    sock = connect(gateway, "tcp")
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: lowart\r\n"
        + f"Authorization: Bearer {gateway.admin_key}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    pieces = [body[i : i + len(body) // 8 + 1] for i in range(0, len(body), len(body) // 8 + 1)]
    for piece in pieces:  # ~3.6 s: longer than both timeouts
        time.sleep(0.45)
        sock.sendall(piece)
    status, reply = read_response(sock)
    assert status == b"HTTP/1.1 200 OK"
    assert orjson.loads(reply)["choices"][0]["message"]["content"].endswith("slow")
    sock.close()


def test_a_long_stream_is_not_cut_by_the_timeouts(gateway):
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    started = time.monotonic()
    stream = api.chat.completions.create(
        model="fake",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
        extra_body={"fake_words": 8, "fake_delay": 0.5},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "".join(f"w{i} " for i in range(8))
    assert time.monotonic() - started > KEEPALIVE_TIMEOUT

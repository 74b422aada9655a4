"""The access line of a failed upstream call says why it failed, and every line's
outcome matches its status. Each cause is provoked for real on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from tests.support.fake_openai import FakeOpenAI, closed_port
from tests.support.servers import GatewayHandle

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]


class RawUpstream:
    """A TCP server on loopback that reads a request and then misbehaves as told."""

    def __init__(self, handle: GatewayHandle, behaviour: Behaviour) -> None:
        self._handle = handle
        self._behaviour = behaviour
        self._server: asyncio.Server | None = None
        self.port = 0

    def __enter__(self) -> RawUpstream:
        async def start() -> None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

        self._handle.run(start())
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()

        self._handle.run(stop())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the request head (the body may follow)
        try:
            await self._behaviour(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the gateway gives up and closes


async def close_mid_response(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b'Content-Length: 500\r\n\r\n{"id": "chatcmpl-1", '
    )
    await writer.drain()
    writer.close()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
    writer.transport.abort()


@pytest.fixture
def access_lines(caplog) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    caplog.set_level(logging.INFO, logger="lowart.access")

    def lines() -> list[dict[str, Any]]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "lowart.access"]

    yield lines


def failed_line(
    gateway: GatewayHandle, lines: Callable[[], list[dict[str, Any]]], base_url: str, **options: Any
) -> dict[str, Any]:
    """Add a route to `base_url`, call it once with the openai SDK, return its access line."""
    name = f"route-{len(gateway.extra)}"
    gateway.extra[name] = True
    gateway.add_model(name, "openai", base_url=base_url, options={"retries": 0, **options})
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    with pytest.raises(openai.APIStatusError):
        api.chat.completions.create(model=name, messages=[{"role": "user", "content": "x"}])
    found = [line for line in lines() if line["route"] == name]
    assert len(found) == 1
    line = found[0]
    assert line["outcome"] == "error"
    return line


def test_refused(gateway, access_lines):
    line = failed_line(gateway, access_lines, f"http://127.0.0.1:{closed_port()}/v1")
    assert (line["status"], line["error"], line["cause"]) == (
        502,
        "upstream_unavailable",
        "refused",
    )


def test_dns_failure(gateway, access_lines):
    line = failed_line(gateway, access_lines, "http://nonexistent.invalid/v1", connect_timeout=5)
    assert (line["error"], line["cause"]) == ("upstream_unavailable", "dns")


def test_tls_to_a_plain_http_port(gateway, access_lines, fake_openai: FakeOpenAI):
    line = failed_line(gateway, access_lines, f"https://127.0.0.1:{fake_openai.port}/v1")
    assert (line["error"], line["cause"]) == ("upstream_unavailable", "tls")


def test_no_answer_within_the_read_timeout(gateway, access_lines):
    with RawUpstream(gateway, never_answer) as upstream:
        line = failed_line(
            gateway, access_lines, f"http://127.0.0.1:{upstream.port}/v1", read_timeout=0.3
        )
    assert (line["status"], line["error"], line["cause"]) == (
        504,
        "upstream_timeout",
        "first_byte_timeout",
    )


def test_first_byte_and_total_timeouts_of_the_route(gateway, access_lines):
    with RawUpstream(gateway, never_answer) as upstream:
        url = f"http://127.0.0.1:{upstream.port}/v1"
        first = failed_line(gateway, access_lines, url, first_byte_timeout=0.3)
        total = failed_line(gateway, access_lines, url, total_timeout=0.3)
    assert (first["error"], first["cause"]) == ("upstream_timeout", "first_byte_timeout")
    assert (total["error"], total["cause"]) == ("upstream_timeout", "total_timeout")


def test_closed_mid_response(gateway, access_lines):
    with RawUpstream(gateway, close_mid_response) as upstream:
        line = failed_line(gateway, access_lines, f"http://127.0.0.1:{upstream.port}/v1")
    assert (line["status"], line["error"], line["cause"]) == (502, "upstream_error", "closed")


def test_reset(gateway, access_lines):
    with RawUpstream(gateway, reset) as upstream:
        line = failed_line(gateway, access_lines, f"http://127.0.0.1:{upstream.port}/v1")
    assert (line["error"], line["cause"]) == ("upstream_error", "reset")


def test_upstream_status(gateway, access_lines, fake_openai: FakeOpenAI):
    gateway.add_model(
        "down",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="fail-503",
        options={"retries": 0},
    )
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    with pytest.raises(openai.APIStatusError):
        api.chat.completions.create(model="down", messages=[{"role": "user", "content": "x"}])
    (line,) = [line for line in access_lines() if line["route"] == "down"]
    assert (line["status"], line["outcome"], line["error"]) == (502, "error", "upstream_error")
    assert (line["cause"], line["upstream_status"]) == ("status_503", 503)


def test_outcome_follows_the_status(gateway, access_lines):
    api = openai.OpenAI(base_url=gateway.openai_base_url, api_key=gateway.admin_key, max_retries=0)
    api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError):
        api.get("/no/such/path", cast_to=object)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=gateway.openai_base_url, api_key="la-wrong", max_retries=0
        ).models.list()
    lines = access_lines()
    by_status = [(line["status"], line["outcome"], line.get("error")) for line in lines]
    assert by_status == [
        (200, "ok", None),
        (404, "error", "model_not_found"),
        (404, "error", "unknown_url"),
        (401, "error", "invalid_api_key"),
    ]
    assert "cause" not in lines[0] and "cause" not in lines[1]

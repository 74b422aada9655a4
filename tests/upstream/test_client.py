"""The upstream HTTP client against raw loopback servers that misbehave on purpose.

Each server is a few lines of asyncio speaking bytes, so every framing,
timeout and failure case is exactly the one named in the test.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lowart.upstream import (
    ConnectFailed,
    ConnectionDropped,
    ConnectTimeout,
    InvalidRequestHeader,
    InvalidResponse,
    ReadTimeout,
    Timeouts,
    UpstreamClient,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """Runs `handler` per connection and remembers what each connection was sent."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.connections = 0
        self.requests: list[bytes] = []
        self.closed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:  # handlers still holding connections
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{port}/v1/chat"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.create_task(self.handler(reader, writer))
        self._tasks.add(task)  # cancelled at exit (the server's own task must end cleanly)
        try:
            await task
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        finally:
            writer.close()
            self._tasks.discard(task)
            self.closed.set()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request (head and Content-Length body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


def keep_alive(server_requests: list[bytes], body: bytes = b'{"ok": true}') -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            server_requests.append(await read_request(reader))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    return handler


FAST = Timeouts(connect=2, read=2, total=5)


async def test_post_sends_one_well_formed_request_and_reads_the_body():
    requests: list[bytes] = []
    async with Server(keep_alive(requests)) as server:
        port = int(server.url.split(":")[2].split("/")[0])
        client = UpstreamClient(user_agent="lowart-test")
        async with client.post(server.url, b'{"a":1}', {"Authorization": "Bearer k"}) as resp:
            assert resp.status == 200
            assert resp.header("content-type") == "application/json"
            assert resp.headers["content-length"] == "12"
            assert await resp.read() == b'{"ok": true}'
        await client.close()
    head, _, body = requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat HTTP/1.1"
    assert b"Host: 127.0.0.1:%d" % port in lines
    assert b"Authorization: Bearer k" in lines
    assert b"User-Agent: lowart-test" in lines
    assert b"Content-Length: 7" in lines
    assert body == b'{"a":1}'


async def test_connections_are_reused_and_counted():
    requests: list[bytes] = []
    async with Server(keep_alive(requests)) as server:
        client = UpstreamClient()
        for _ in range(5):
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                await resp.read()
        assert server.connections == 1 and client.connections_opened == 1
        await client.close()
    assert len(requests) == 5


async def test_concurrent_requests_each_get_a_connection_then_share_the_pool():
    requests: list[bytes] = []
    async with Server(keep_alive(requests)) as server:
        client = UpstreamClient()

        async def one() -> bytes:
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                return await resp.read()

        assert await asyncio.gather(*(one() for _ in range(8))) == [b'{"ok": true}'] * 8
        opened = client.connections_opened
        await asyncio.gather(*(one() for _ in range(8)))
        assert client.connections_opened == opened <= 8
        await client.close()


async def test_an_idle_connection_the_upstream_closed_is_not_used():
    async def one_request_then_close(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        # keep-alive was promised, but the server closes while the connection idles

    async with Server(one_request_then_close) as server:
        client = UpstreamClient()
        for _ in range(3):
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                assert await resp.read() == b"ok"
            await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle
        assert server.connections == 3
        await client.close()


async def test_idle_connections_expire_after_keepalive():
    requests: list[bytes] = []
    async with Server(keep_alive(requests)) as server:
        client = UpstreamClient(keepalive=0.05)
        async with client.post(server.url, b"{}") as resp:
            await resp.read()
        await asyncio.sleep(0.1)
        async with client.post(server.url, b"{}") as resp:
            await resp.read()
        assert client.connections_opened == 2
        await client.close()


async def test_chunked_body_streams_pieces_as_they_arrive():
    release = asyncio.Event()

    async def chunked(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await writer.drain()
        await reader.read()  # keep the connection until the client is done

    async with Server(chunked) as server:
        client = UpstreamClient()
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            pieces = resp.iter_chunks()
            assert await anext(pieces) == b"first"  # before the rest was even sent
            release.set()
            assert [p async for p in pieces] == [b"second"]
        await client.close()


async def test_a_body_delimited_by_close_is_read_whole_and_the_connection_dropped():
    async def close_delimited(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of ")
        await writer.drain()
        writer.write(b"it")
        await writer.drain()

    async with Server(close_delimited) as server:
        client = UpstreamClient()
        for _ in range(2):
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                assert await resp.read() == b"all of it"
        assert server.connections == 2
        await client.close()


async def test_a_body_cut_short_delivers_what_came_then_raises():
    async def cut(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()

    async with Server(cut) as server:
        client = UpstreamClient()
        got = []
        with pytest.raises(ConnectionDropped):
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                async for piece in resp.iter_chunks():
                    got.append(piece)
        assert got == [b"partial"]
        await client.close()


async def test_no_response_at_all_is_a_dropped_connection():
    async def hang_up(reader, writer):
        await read_request(reader)

    async with Server(hang_up) as server:
        client = UpstreamClient()
        with pytest.raises(ConnectionDropped):
            async with client.post(server.url, b"{}", timeouts=FAST):
                pass
        await client.close()


async def test_refused_connection_fails_fast():
    async with Server(keep_alive([])) as server:
        url = server.url
    client = UpstreamClient()
    with pytest.raises(ConnectFailed):
        async with client.post(url, b"{}", timeouts=FAST):
            pass
    await client.close()


async def test_unknown_host_is_a_connect_failure():
    client = UpstreamClient()
    with pytest.raises(ConnectFailed):
        async with client.post("http://no-such-host.invalid/v1", b"{}", timeouts=FAST):
            pass
    await client.close()


async def test_silence_before_the_headers_is_a_read_timeout():
    async def silent(reader, writer):
        await read_request(reader)
        await asyncio.sleep(10)

    async with Server(silent) as server:
        client = UpstreamClient()
        started = asyncio.get_running_loop().time()
        with pytest.raises(ReadTimeout):
            async with client.post(server.url, b"{}", timeouts=Timeouts(read=0.2)):
                pass
        assert asyncio.get_running_loop().time() - started < 2
        await client.close()


async def test_silence_mid_body_is_a_read_timeout_but_steady_progress_is_not():
    async def trickle(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(6):  # 6 x 0.1 s: longer than the read timeout, never silent that long
            writer.write(b"1\r\nx\r\n")
            await writer.drain()
            await asyncio.sleep(0.1)
        await asyncio.sleep(10)

    async with Server(trickle) as server:
        client = UpstreamClient()
        got = b""
        with pytest.raises(ReadTimeout):
            async with client.post(server.url, b"{}", timeouts=Timeouts(read=0.3)) as resp:
                async for piece in resp.iter_chunks():
                    got += piece
        assert got == b"x" * 6
        await client.close()


async def test_the_total_timeout_ends_a_trickling_response():
    async def endless(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            writer.write(b"1\r\nx\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with Server(endless) as server:
        client = UpstreamClient()
        started = asyncio.get_running_loop().time()
        with pytest.raises(ReadTimeout):
            async with client.post(server.url, b"{}", timeouts=Timeouts(read=5, total=0.4)) as r:
                await r.read()
        assert 0.3 < asyncio.get_running_loop().time() - started < 3
        await client.close()


async def test_a_tls_handshake_that_never_completes_is_a_connect_timeout():
    async def mute(reader, writer):
        await asyncio.sleep(10)

    async with Server(mute) as server:
        client = UpstreamClient()
        url = server.url.replace("http://", "https://")
        with pytest.raises(ConnectTimeout):
            async with client.post(url, b"{}", timeouts=Timeouts(connect=0.3)):
                pass
        await client.close()


async def test_invalid_http_is_an_invalid_response():
    async def garbage(reader, writer):
        await read_request(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async with Server(garbage) as server:
        client = UpstreamClient()
        with pytest.raises(InvalidResponse):
            async with client.post(server.url, b"{}", timeouts=FAST):
                pass
        await client.close()


@pytest.mark.parametrize("value", ["k\r\nX-Evil: 1", "k\nX-Evil: 1", "k\x00"])
async def test_header_injection_is_refused_before_anything_is_sent(value):
    requests: list[bytes] = []
    async with Server(keep_alive(requests)) as server:
        client = UpstreamClient()
        with pytest.raises(InvalidRequestHeader):
            async with client.post(server.url, b"{}", {"Authorization": value}):
                pass
        assert server.connections == 0
        await client.close()


async def test_gzip_bodies_are_decoded_whole_and_streamed():
    payload = b'{"text": "' + b"hello " * 2000 + b'"}'
    packed = gzip.compress(payload)

    async def gzipped(reader, writer):
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n")
            writer.write(b"Content-Length: %d\r\n\r\n" % len(packed) + packed)
            await writer.drain()

    async with Server(gzipped) as server:
        client = UpstreamClient()
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            assert await resp.read() == payload
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            assert b"".join([p async for p in resp.iter_chunks()]) == payload
        await client.close()


async def test_an_interim_100_continue_is_skipped():
    async def continue_first(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final: yes\r\n\r\ndone")
        await writer.drain()
        await asyncio.sleep(1)

    async with Server(continue_first) as server:
        client = UpstreamClient()
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            assert (resp.status, resp.header("x-final"), await resp.read()) == (201, "yes", b"done")
        await client.close()


async def test_an_abandoned_response_closes_its_connection():
    async def two_parts(reader, writer):
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"67890")
            await writer.drain()

    async with Server(two_parts) as server:
        client = UpstreamClient()
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            assert resp.status == 200  # body left unread
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            assert await resp.read() == b"1234567890"  # no leftover bytes of the first
        assert server.connections == 2
        await client.close()


async def test_cancelling_a_request_closes_the_upstream_connection():
    async def slow(reader, writer):
        await read_request(reader)
        await reader.read()  # returns when the client hangs up

    async with Server(slow) as server:
        client = UpstreamClient()

        async def call() -> None:
            async with client.post(server.url, b"{}", timeouts=FAST):
                pass

        task = asyncio.create_task(call())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.closed.wait(), 2)  # the upstream saw the hang-up
        await client.close()


async def test_a_slow_reader_gets_a_large_stream_intact():
    block = bytes(range(256)) * 256  # 64 KiB

    async def big(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(block) * 64))
        for _ in range(64):
            writer.write(block)
            await writer.drain()

    async with Server(big) as server:
        client = UpstreamClient()
        received = bytearray()
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            async for piece in resp.iter_chunks():
                received += piece
                await asyncio.sleep(0)  # slower than loopback delivers
        assert bytes(received) == block * 64
        await client.close()


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


async def test_https_with_a_trusted_certificate(tmp_path):
    server_ctx, client_ctx = _self_signed(tmp_path)
    requests: list[bytes] = []
    async with Server(keep_alive(requests), ssl_context=server_ctx) as server:
        client = UpstreamClient(ssl_context=client_ctx)
        for _ in range(2):
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                assert await resp.read() == b'{"ok": true}'
        assert client.connections_opened == 1
        await client.close()


async def test_https_with_an_untrusted_certificate_is_refused(tmp_path):
    server_ctx, _ = _self_signed(tmp_path)
    async with Server(keep_alive([]), ssl_context=server_ctx) as server:
        client = UpstreamClient()  # the system CA store does not know our certificate
        with pytest.raises(ConnectFailed):
            async with client.post(server.url, b"{}", timeouts=FAST):
                pass
        await client.close()


async def test_a_closed_client_refuses_new_requests():
    client = UpstreamClient()
    await client.close()
    with pytest.raises(ConnectFailed):
        async with client.post("http://127.0.0.1:9/v1", b"{}"):
            pass


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http:///nohost", "http://h:99999/"])
async def test_bad_urls_are_refused(url):
    client = UpstreamClient()
    with pytest.raises(ConnectFailed, match="invalid upstream URL"):
        async with client.post(url, b"{}"):
            pass
    await client.close()


async def test_a_large_body_left_unread_does_not_stall_the_next_request():
    block = b"z" * (300 * 1024)  # above the flow-control high-water mark

    async def big_then_small(reader, writer):
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(block) + block)
            await writer.drain()

    async with Server(big_then_small) as server:
        client = UpstreamClient()
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            await asyncio.sleep(0.1)  # the body arrives (or reading pauses) while unread
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            assert await resp.read() == block
        await client.close()


async def test_an_upstream_error_body_read_whole_keeps_the_connection():
    requests: list[bytes] = []
    async with Server(keep_alive(requests)) as server:
        client = UpstreamClient()
        with pytest.raises(RuntimeError):
            async with client.post(server.url, b"{}", timeouts=FAST) as resp:
                await resp.read()
                raise RuntimeError("the caller rejects the answer")
        async with client.post(server.url, b"{}", timeouts=FAST) as resp:
            await resp.read()
        assert client.connections_opened == 1
        await client.close()

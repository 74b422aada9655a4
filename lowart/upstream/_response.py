"""An upstream response: status and headers at once, the body read or streamed.

Whoever holds one must end it (`release`, or leave the `async with` of the
request): a response read to its end hands its connection back to the pool,
any other is closed, so a half-read body can never leak into the next request.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Callable

from lowart.upstream._connection import Connection
from lowart.upstream._errors import InvalidResponse, TransportError

__all__ = ["MAX_BODY_BYTES", "UpstreamResponse"]

MAX_BODY_BYTES = 128 * 1024 * 1024  # a whole (non-streamed) body larger than this is refused


class UpstreamResponse:
    __slots__ = ("_conn", "_decoder", "_give_back", "_headers", "_released", "status")

    def __init__(self, conn: Connection, give_back: Callable[[Connection], None]) -> None:
        self._conn = conn
        self._give_back = give_back
        self.status = conn.status
        self._headers: dict[str, str] | None = None
        self._released = False
        self._decoder = _decoder_for(conn.content_encoding)

    # ------------------------------------------------------------------ headers
    def header(self, name: str) -> str | None:
        """One header's value (the last one if repeated), looked up case-insensitively."""
        wanted = name.lower().encode("latin-1")
        found = None
        for key, value in self._conn.raw_headers:
            if key == wanted:
                found = value
        return found.decode("latin-1") if found is not None else None

    @property
    def headers(self) -> dict[str, str]:
        """All headers, lower-case names; repeated ones joined with ", "."""
        if self._headers is None:
            merged: dict[str, str] = {}
            for key, value in self._conn.raw_headers:
                name, text = key.decode("latin-1"), value.decode("latin-1")
                merged[name] = f"{merged[name]}, {text}" if name in merged else text
            self._headers = merged
        return self._headers

    # ------------------------------------------------------------------ body
    async def read(self, limit: int = MAX_BODY_BYTES) -> bytes:
        """The whole body (decoded if the upstream compressed it)."""
        parts: list[bytes] = []
        size = 0
        next_chunk = self._conn.next_chunk
        while (chunk := await next_chunk()) is not None:
            size += len(chunk)
            if size > limit:
                self.close()
                raise InvalidResponse(f"the response body is larger than {limit} bytes")
            parts.append(chunk)
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        if self._decoder is not None:
            body = _decode(self._decoder, body, final=True)
        return body

    async def next_chunk(self) -> bytes | None:
        """The next piece of body as it arrives (decoded); None at the end."""
        chunk = await self._conn.next_chunk()
        decoder = self._decoder
        if decoder is None:
            return chunk
        if chunk is None:
            tail = _decode(decoder, b"", final=True)
            self._decoder = None
            return tail or None
        return _decode(decoder, chunk, final=False)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Body pieces as they arrive from the network (decoded), without buffering."""
        while (chunk := await self.next_chunk()) is not None:
            if chunk:  # a compressed piece may decode to nothing yet
                yield chunk

    async def finish(self, limit: float = 1.0) -> None:
        """Read and drop what is left of the body, so the connection can be reused.

        A vendor's stream usually ends with its terminator already buffered;
        `limit` bounds one that keeps the connection open after its end marker.
        """
        if self._conn.drained():
            return
        try:
            async with asyncio.timeout(limit):
                while await self._conn.next_chunk() is not None:
                    pass
        except (TimeoutError, TransportError):
            self.close()

    # ------------------------------------------------------------------ ending
    def release(self) -> None:
        """Done with this response: its connection goes back to the pool or is closed."""
        if self._released:
            return
        self._released = True
        conn = self._conn
        conn.end_exchange()
        if conn.reusable():
            self._give_back(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Abandon the response (and its connection) now."""
        if not self._released:
            self._released = True
            self._conn.close()


def _decode(decoder: zlib._Decompress, data: bytes, *, final: bool) -> bytes:
    try:
        out = decoder.decompress(data)
        if final:
            out += decoder.flush()
    except zlib.error as exc:
        raise InvalidResponse(f"the response body is not valid compressed data: {exc}") from exc
    return out


def _decoder_for(encoding: bytes | None) -> zlib._Decompress | None:
    """A zlib decompressor for gzip/deflate bodies (never asked for; some servers send them)."""
    if not encoding or encoding == b"identity":
        return None
    if encoding in (b"gzip", b"x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == b"deflate":
        return zlib.decompressobj()
    raise InvalidResponse(f"unsupported content-encoding {encoding.decode('latin-1')!r}")

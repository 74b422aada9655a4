"""Reading what an HTTP client sent: its key and its JSON body."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lowart.errors import InvalidRequest, PayloadTooLarge

__all__ = ["presented_key", "read_json"]


def presented_key(request: web.Request) -> str | None:
    """`Authorization: Bearer KEY`, or `x-api-key: KEY` (what Anthropic clients send)."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.headers.get("x-api-key") or None


async def read_json(request: web.Request) -> Any:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(
            f"The request body is larger than the limit of {request.client_max_size} bytes."
        ) from exc
    if not raw:
        raise InvalidRequest("The request body is empty; send a JSON object.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc.msg}.") from exc

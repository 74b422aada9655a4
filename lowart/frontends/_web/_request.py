"""Reading what an HTTP client sent: its key and its JSON body."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lowart.errors import InvalidRequest, PayloadTooLarge

__all__ = ["MAX_JSON_DEPTH", "SESSION_KEY", "presented_key", "read_json"]

SESSION_KEY: web.RequestKey[str] = web.RequestKey("lowart.session_key", str)
"""The key a dashboard session stands for, set only once its cookie and CSRF token
were both checked (lowart.frontends.http's session middleware)."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have. Parsing allows
far more, but writing it out again (usage records, upstream payloads) does not,
and no API request needs more than a few levels."""


def presented_key(request: web.Request) -> str | None:
    """`Authorization: Bearer KEY`, or `x-api-key: KEY` (what Anthropic clients send),
    or else the key of the checked dashboard session the request came with."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.headers.get("x-api-key") or request.get(SESSION_KEY)


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
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc.msg}.") from exc
    # Cheap first: fewer brackets than the limit cannot nest deeper than it.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _too_deep(body):
        raise InvalidRequest(
            f"The request body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep."
        )
    return body


def _too_deep(value: Any) -> bool:
    """True when `value` nests containers deeper than MAX_JSON_DEPTH (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False

"""Error responses over HTTP, in the envelope of the protocol a client speaks.

A route declares its envelope (`OPENAI` unless the handler is marked with
`speaks`), so the error middleware never guesses from the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from aiohttp import web

from lowart.errors import GatewayError

__all__ = ["ANTHROPIC", "OPENAI", "ErrorEnvelope", "envelope_of", "error_response", "speaks"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class ErrorEnvelope:
    """How one protocol spells an error: the HTTP status and the JSON body."""

    name: str
    status: Callable[[GatewayError], int]
    body: Callable[[GatewayError], dict[str, Any]]


OPENAI = ErrorEnvelope("openai", lambda exc: exc.status, GatewayError.openai_body)
ANTHROPIC = ErrorEnvelope("anthropic", GatewayError.anthropic_status, GatewayError.anthropic_body)

_ATTRIBUTE = "_lowart_error_envelope"


def speaks(envelope: ErrorEnvelope) -> Callable[[F], F]:
    """Mark a handler whose errors use `envelope` instead of OpenAI's."""

    def mark(handler: F) -> F:
        setattr(handler, _ATTRIBUTE, envelope)
        return handler

    return mark


def envelope_of(request: web.Request) -> ErrorEnvelope:
    """The envelope of the route that matched (OpenAI's for unknown paths)."""
    handler = getattr(request.match_info, "handler", None)
    envelope = getattr(handler, _ATTRIBUTE, None)
    return envelope if isinstance(envelope, ErrorEnvelope) else OPENAI


def error_response(exc: GatewayError, envelope: ErrorEnvelope = OPENAI) -> web.Response:
    response = web.Response(
        status=envelope.status(exc),
        body=orjson.dumps(envelope.body(exc)),
        content_type="application/json",
    )
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response

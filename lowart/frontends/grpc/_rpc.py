"""What every gRPC method shares: call context, caller's key, the one error mapping.

`rpc` wraps each servicer method: it creates the CallContext (request id,
interface `grpc`, the client's deadline), turns any GatewayError into
`context.abort` with the status code the error names, hides unexpected
exceptions behind INTERNAL, and writes one access log line, so the servicers
themselves stay a few lines of decode, call, encode.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc

from lowart._logging import log_access
from lowart._request_id import request_id as new_request_id
from lowart.errors import GatewayError
from lowart.frontends._grpc_key import grpc_presented_key as presented_key
from lowart.gateway import Gateway
from lowart.types import CallContext

__all__ = ["presented_key", "rpc", "status_for"]

log = logging.getLogger("lowart.grpc")


class _Servicer(Protocol):
    _gateway: Gateway


S = TypeVar("S", bound=_Servicer)
R = TypeVar("R")
Context = grpc.aio.ServicerContext[Any, Any]
Handler = Callable[[S, Any, Context, CallContext], Awaitable[R]]
Method = Callable[[S, Any, Context], Awaitable[R]]


def status_for(exc: GatewayError) -> grpc.StatusCode:
    """The status code the error names (errors.py holds the vocabulary)."""
    try:
        return grpc.StatusCode[exc.grpc_code]
    except KeyError:
        return grpc.StatusCode.INTERNAL


def _new_context(context: Context) -> CallContext:
    presented = ""
    traceparent = None
    for name, value in context.invocation_metadata() or ():
        if name == "x-request-id" and isinstance(value, str):
            presented = value
        elif name == "traceparent" and isinstance(value, str):
            traceparent = value
    request_id = new_request_id(presented)
    remaining = context.time_remaining()
    timeout = None
    if remaining is not None and remaining < 86_400:
        timeout = max(remaining, 0.001)  # the upstream call gets the client's deadline
    return CallContext(
        request_id=request_id, interface="grpc", timeout=timeout, traceparent=traceparent
    )


def rpc(handler: Handler[S, R]) -> Method[S, R]:
    """Adapt `handler(self, request, context, ctx)` to a grpc.aio method."""

    @functools.wraps(handler)
    async def method(self: S, request: Any, context: Context) -> R:
        ctx = _new_context(context)
        gateway = self._gateway
        gateway.begin_request(ctx, f"grpc {handler.__name__}")
        trailers: tuple[tuple[str, str], ...] = (("x-request-id", ctx.request_id),)
        context.set_trailing_metadata(trailers)
        code = grpc.StatusCode.OK
        status = 200  # its HTTP equivalent, for the metrics
        try:
            return await handler(self, request, context, ctx)
        except GatewayError as exc:
            code, status = status_for(exc), exc.status
            ctx.failed(exc.code, exc.cause, getattr(exc, "upstream_status", None))
            if exc.retry_after is not None:
                trailers += (("retry-after", str(max(1, round(exc.retry_after)))),)
            await context.abort(code, exc.message, trailing_metadata=trailers)
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED  # the client went away or its deadline passed
            status = 499
            ctx.failed("client_closed")
            raise
        except Exception:
            log.exception("unhandled error in request %s", ctx.request_id)
            code, status = grpc.StatusCode.INTERNAL, 500
            ctx.failed("internal_error")
            await context.abort(
                code,
                f"Internal error. Quote request id {ctx.request_id} when reporting it.",
                trailing_metadata=trailers,
            )
        finally:
            _log_access(handler.__name__, ctx, code)
            gateway.end_request(ctx, status)
        raise AssertionError("unreachable: context.abort raises")  # pragma: no cover

    return method


def _log_access(method: str, ctx: CallContext, code: grpc.StatusCode) -> None:
    log_access(ctx, code.name, method=method)

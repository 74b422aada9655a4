"""The HTTP side of the error vocabulary, the request id and the access log line.

One middleware does all three, so every response, error or not, carries an
`x-request-id`, an OpenAI error body when it failed, and leaves one log line.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

from aiohttp import web

from lowart._logging import log_access
from lowart._request_id import request_id as new_request_id
from lowart.errors import GatewayError, InvalidRequest, NotFound, PayloadTooLarge
from lowart.frontends._web import CTX, envelope_of, error_response
from lowart.frontends.http._state import GATEWAY, IN_FLIGHT
from lowart.types import CallContext

__all__ = ["request_middleware"]

log = logging.getLogger("lowart.http")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _from_http_exception(exc: web.HTTPException) -> GatewayError:
    if exc.status == 413:
        return PayloadTooLarge("The request body is too large.")
    if exc.status == 404:
        return NotFound("Unknown path.", code="unknown_url")
    if exc.status == 405:
        return InvalidRequest(
            "Method not allowed for this path.", status=405, code="method_not_allowed"
        )
    return InvalidRequest(exc.reason or "Bad request.", status=exc.status)


def _origin_of(request: web.Request) -> Callable[[], str | None]:
    """The request's origin, built only if asked (only links to image files need it).

    A weak reference, since the context lives on the request: a strong one would make
    a reference cycle per request for the garbage collector to find.
    """
    ref = weakref.ref(request)

    def origin() -> str | None:
        alive = ref()
        return str(alive.url.origin()) if alive is not None else None

    return origin


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    presented = request.headers.get("x-request-id", "")
    request_id = new_request_id(presented)
    ctx = CallContext(
        request_id=request_id,
        interface="http",
        base_url_from=_origin_of(request),
        traceparent=request.headers.get("traceparent"),
    )
    request[CTX] = ctx
    gateway = request.app[GATEWAY]
    gateway.begin_request(ctx, _span_name(request))
    in_flight = request.app[IN_FLIGHT]
    task = asyncio.current_task()
    if task is not None:
        in_flight.add(task)
    try:
        response = await handler(request)
    except GatewayError as exc:
        response = _failed(ctx, exc, request)
    except web.HTTPException as exc:
        response = _failed(ctx, _from_http_exception(exc), request)
    except asyncio.CancelledError:
        # The client went away (or the gateway stopped): 499, as nginx logs it.
        ctx.failed("client_closed")
        log_access(ctx, 499, method=request.method, path=request.path)
        gateway.end_request(ctx, 499)
        raise
    except Exception:
        log.exception("unhandled error in request %s", request_id)
        response = _failed(
            ctx,
            GatewayError(f"Internal error. Quote request id {request_id} when reporting it."),
            request,
        )
    finally:
        if task is not None:
            in_flight.discard(task)
    if not response.prepared:
        response.headers["x-request-id"] = request_id
    log_access(ctx, response.status, method=request.method, path=request.path)
    gateway.end_request(ctx, response.status)
    return response


def _failed(ctx: CallContext, exc: GatewayError, request: web.Request) -> web.Response:
    ctx.failed(exc.code, exc.cause, getattr(exc, "upstream_status", None))
    return error_response(exc, envelope_of(request))


def _span_name(request: web.Request) -> str:
    """`POST /v1/chat/completions`: the route's pattern, never a client's arbitrary path."""
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical if resource is not None else 'unknown'}"

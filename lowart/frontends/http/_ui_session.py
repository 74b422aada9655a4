"""Signing in to the dashboard, and the middleware that lets its session stand for a key.

POST /ui/session trades an API key for a session: an HttpOnly, SameSite=Strict
cookie holding a random id, and a CSRF token the page keeps in memory. The
admin API, the self-service API and /v1 then accept the cookie in place of a
bearer key only together with that token in the `X-CSRF-Token` header and,
when the browser names one, this origin: a page of another site can neither
read the token nor send the header, so it cannot act as the signed-in key.
A bearer key (or x-api-key) always wins over the cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from lowart.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from lowart.frontends._web import SESSION_KEY, read_json
from lowart.frontends.http._sessions import Session
from lowart.frontends.http._state import GATEWAY, SESSIONS
from lowart.frontends.http._ui_headers import secure_headers

__all__ = ["COOKIE", "CSRF_HEADER", "routes", "session_middleware"]

COOKIE = "lowart_session"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_PATHS = ("/admin/", "/self/", "/v1/")

routes = web.RouteTableDef()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _same_origin(request: web.Request) -> bool:
    """Whether the browser says the request comes from this origin (or says nothing)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


def _checked_session(request: web.Request) -> Session:
    """The request's session, once its CSRF token and origin are checked."""
    session = request.app[SESSIONS].get(request.cookies.get(COOKIE))
    if session is None:
        raise AuthenticationFailed("Your dashboard session has ended; sign in again.")
    if not session.csrf_matches(request.headers.get(CSRF_HEADER)) or not _same_origin(request):
        raise PermissionDenied(
            f"A dashboard session needs its CSRF token ({CSRF_HEADER}) from the same origin."
        )
    return session


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (
        COOKIE in request.cookies
        and "Authorization" not in request.headers
        and "x-api-key" not in request.headers
        and request.path.startswith(_SESSION_PATHS)
    ):
        request[SESSION_KEY] = _checked_session(request).key
    return await handler(request)


def _session_body(session: Session) -> dict[str, object]:
    return {"signed_in": True, "name": session.name, "admin": session.admin, "csrf": session.csrf}


def _json(payload: object, status: int = 200) -> web.Response:
    response = web.Response(
        status=status, body=orjson.dumps(payload), content_type="application/json"
    )
    secure_headers(response)
    return response


@routes.post("/ui/session")
async def sign_in(request: web.Request) -> web.Response:
    if not _same_origin(request):
        raise PermissionDenied("Sign in from the dashboard's own page.")
    body = await read_json(request)
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key.strip():
        raise InvalidRequest('Send the API key as {"key": "..."}.', param="key")
    principal = await request.app[GATEWAY].authenticate(key.strip())
    sessions = request.app[SESSIONS]
    session = sessions.open(key.strip(), principal.name, admin=principal.is_admin)
    response = _json(_session_body(session), status=201)
    response.set_cookie(
        COOKIE,
        session.id,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
        max_age=int(sessions.lifetime),
    )
    return response


@routes.get("/ui/session")
async def current(request: web.Request) -> web.Response:
    """The signed-in key's name, role and CSRF token (a reloaded page asks for them),
    or `signed_in: false` (a 200: not being signed in is no error for the page).
    The key is checked again, so a revoked key's session ends here."""
    sessions = request.app[SESSIONS]
    session = sessions.get(request.cookies.get(COOKIE))
    if session is not None:
        try:
            await request.app[GATEWAY].authenticate(session.key)
        except AuthenticationFailed:
            sessions.close(session.id)
            session = None
    if session is None:
        return _json({"signed_in": False})
    return _json(_session_body(session))


@routes.delete("/ui/session")
async def sign_out(request: web.Request) -> web.Response:
    session = _checked_session(request)
    request.app[SESSIONS].close(session.id)
    response = _json({"signed_out": True})
    response.del_cookie(COOKIE, path="/", samesite="Strict", httponly=True)
    return response

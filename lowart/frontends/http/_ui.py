"""The dashboard at /ui: static pages (plain ES modules and CSS shipped in the
package, no build step) that call the admin, self-service and /v1 APIs.

Nothing here reads data: the browser calls the same JSON APIs a script would,
with its session standing for the key (`_ui_session`). The files are read once,
when the application is made (`_ui_assets`), and served from memory with
validators (`no-cache`: the browser asks again but gets a 304 while they are
unchanged), gzip-compressed for browsers that accept it.
"""

from __future__ import annotations

from aiohttp import web

from lowart.frontends.http._ui_assets import Asset, Assets
from lowart.frontends.http._ui_headers import secure_headers
from lowart.frontends.http._ui_session import routes as session_routes
from lowart.frontends.http._ui_session import session_middleware

__all__ = ["install_ui", "session_middleware"]

_ASSETS: web.AppKey[Assets] = web.AppKey("ui_assets", Assets)


def _accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _serve(request: web.Request, name: str) -> web.Response:
    asset: Asset = request.app[_ASSETS].get(name)
    packed = asset.gzipped is not None and _accepts_gzip(request)
    etag = asset.gzip_etag if packed else asset.etag
    if request.headers.get("If-None-Match") == etag:
        response = web.Response(status=304)
    else:
        body = asset.gzipped if packed and asset.gzipped is not None else asset.body
        response = web.Response(body=body, headers={"Content-Type": asset.content_type})
        if packed:
            response.headers["Content-Encoding"] = "gzip"
    response.headers["ETag"] = etag
    response.headers["Vary"] = "Accept-Encoding"
    secure_headers(response, cacheable=True, style_hashes=asset.style_hashes)
    return response


async def _index(request: web.Request) -> web.Response:
    return _serve(request, "index.html")


async def _redirect(_request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "/ui/"})


async def _asset(request: web.Request) -> web.Response:
    return _serve(request, request.match_info["name"])


async def _headers_on_errors(request: web.Request, response: web.StreamResponse) -> None:
    """An error answered under /ui (by the error middleware) gets the same headers."""
    if request.path.startswith("/ui") and "Content-Security-Policy" not in response.headers:
        secure_headers(response)


def install_ui(app: web.Application) -> None:
    app[_ASSETS] = Assets()
    app.add_routes(session_routes)
    app.router.add_get("/ui", _redirect)
    app.router.add_get("/ui/", _index)
    app.router.add_get("/ui/{name:[A-Za-z0-9_-]+\\.(?:js|css|svg)}", _asset)
    app.on_response_prepare.append(_headers_on_errors)

"""The dashboard at /ui: static pages (plain ES modules and CSS shipped in the
package, no build step) that call the admin, self-service and /v1 APIs.

Nothing here reads data: the browser calls the same JSON APIs a script would,
with its session standing for the key (`_ui_session`). Assets are read from the
package once, on first use, and served with validators (`no-cache`: the browser
asks again but gets a 304 while they are unchanged).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import NamedTuple

from aiohttp import web

from lowart.errors import NotFound
from lowart.frontends.http._ui_headers import secure_headers
from lowart.frontends.http._ui_session import routes as session_routes
from lowart.frontends.http._ui_session import session_middleware

__all__ = ["install_ui", "session_middleware"]

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


class _Asset(NamedTuple):
    body: bytes
    content_type: str
    etag: str


class _Assets:
    """The files of lowart/frontends/http/ui, loaded once (a few tens of kB)."""

    def __init__(self) -> None:
        self._files: dict[str, _Asset] | None = None

    def get(self, name: str) -> _Asset:
        if self._files is None:
            self._files = self._load()
        asset = self._files.get(name)
        if asset is None:
            raise NotFound(f"No dashboard file '{name}'.", code="unknown_url")
        return asset

    @staticmethod
    def _load() -> dict[str, _Asset]:
        found = {}
        folder = resources.files("lowart.frontends.http").joinpath("ui")
        for entry in folder.iterdir():
            suffix = "." + entry.name.rpartition(".")[2]
            if entry.is_file() and suffix in _TYPES:
                body = entry.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                found[entry.name] = _Asset(body, _TYPES[suffix], etag)
        return found


_ASSETS: web.AppKey[_Assets] = web.AppKey("ui_assets", _Assets)


def _serve(request: web.Request, name: str) -> web.Response:
    asset = request.app[_ASSETS].get(name)
    if request.headers.get("If-None-Match") == asset.etag:
        response = web.Response(status=304)
    else:
        response = web.Response(body=asset.body, headers={"Content-Type": asset.content_type})
    response.headers["ETag"] = asset.etag
    secure_headers(response, cacheable=True)
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
    app[_ASSETS] = _Assets()
    app.add_routes(session_routes)
    app.router.add_get("/ui", _redirect)
    app.router.add_get("/ui/", _index)
    app.router.add_get("/ui/{name:[A-Za-z0-9_-]+\\.(?:js|css|svg)}", _asset)
    app.on_response_prepare.append(_headers_on_errors)

"""The dashboard's files, read from the package once when the application is made
and served from memory: each with a strong ETag and, for browsers that take it, a
gzip copy compressed then too (~70 kB: a few ms at start, nothing per request).

The page itself (index.html) carries its stylesheet inline: a linked stylesheet
blocks the first paint until it arrives, and on a busy machine that request was
sometimes slower than the overview's usage query. The Content-Security-Policy
stays strict: it allows that one style element by its SHA-256, nothing inline else.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from importlib import resources
from typing import NamedTuple

from lowart.errors import NotFound

__all__ = ["Asset", "Assets"]

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_STYLESHEET_LINK = '<link rel="stylesheet" href="/ui/app.css">'
_GZIP_MIN_BYTES = 1024  # below this the gzip framing saves next to nothing


class Asset(NamedTuple):
    body: bytes
    content_type: str
    etag: str
    gzipped: bytes | None
    """The body gzip-compressed (None when that would not be smaller)."""
    style_hashes: tuple[str, ...] = ()
    """CSP sources ('sha256-...') of the style elements inline in this page."""

    @property
    def gzip_etag(self) -> str:
        """The compressed copy is another representation, so it has its own validator."""
        return self.etag[:-1] + '-gz"'


class Assets:
    """The files of lowart/frontends/http/ui (a few tens of kB), by name."""

    def __init__(self) -> None:
        self._files = _load()

    def get(self, name: str) -> Asset:
        asset = self._files.get(name)
        if asset is None:
            raise NotFound(f"No dashboard file '{name}'.", code="unknown_url")
        return asset


def _load() -> dict[str, Asset]:
    bodies: dict[str, bytes] = {}
    folder = resources.files("lowart.frontends.http").joinpath("ui")
    for entry in folder.iterdir():
        if entry.is_file() and _suffix(entry.name) in _TYPES:
            bodies[entry.name] = entry.read_bytes()
    found = {name: _asset(name, body) for name, body in bodies.items()}
    found["index.html"] = _page_with_inline_style(bodies["index.html"], bodies["app.css"])
    return found


def _page_with_inline_style(page: bytes, css: bytes) -> Asset:
    """index.html with app.css in a <style> element in place of its link."""
    html = page.decode()
    if html.count(_STYLESHEET_LINK) != 1:
        raise RuntimeError(f"ui/index.html must link the stylesheet once as {_STYLESHEET_LINK}")
    style = css.decode()
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    inlined = html.replace(_STYLESHEET_LINK, f"<style>{style}</style>").encode()
    return _asset("index.html", inlined, style_hashes=(f"'sha256-{digest}'",))


def _asset(name: str, body: bytes, style_hashes: tuple[str, ...] = ()) -> Asset:
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    packed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= _GZIP_MIN_BYTES else None
    if packed is not None and len(packed) >= len(body):
        packed = None
    return Asset(body, _TYPES[_suffix(name)], etag, packed, style_hashes)


def _suffix(name: str) -> str:
    return "." + name.rpartition(".")[2]

"""How the dashboard's files are served: the page with its stylesheet inline (allowed
by its hash, nothing else inline), and every file from memory with a strong ETag,
gzip-compressed for clients that accept it."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from importlib import resources

import aiohttp

UI = resources.files("lowart.frontends.http").joinpath("ui")


async def _get(gateway, path, **headers):
    # auto_decompress off: the test sees the bytes on the wire, as they were sent.
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(gateway.base_url + path, headers=headers) as response:
            return response.status, response.headers, await response.read()


def _gzip(if_none_match: str) -> dict[str, str]:
    return {"Accept-Encoding": "gzip", "If-None-Match": if_none_match}


def test_the_page_carries_its_stylesheet_inline_allowed_by_its_hash_only(gateway):
    status, headers, body = gateway.run(_get(gateway, "/ui/", **{"Accept-Encoding": "identity"}))
    assert status == 200
    page = body.decode()
    assert 'rel="stylesheet"' not in page  # no request blocks the first paint
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert styles == [UI.joinpath("app.css").read_text()]
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    policy = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["style-src"] == f"'self' 'sha256-{digest}'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    # The other files keep the plain policy.
    _, headers, _ = gateway.run(_get(gateway, "/ui/app.js"))
    assert "sha256" not in headers["Content-Security-Policy"]


def test_files_are_gzipped_with_their_own_validator(gateway):
    original = UI.joinpath("page-models.js").read_bytes()
    status, plain, body = gateway.run(
        _get(gateway, "/ui/page-models.js", **{"Accept-Encoding": "identity"})
    )
    assert status == 200 and body == original and "Content-Encoding" not in plain
    status, packed, body = gateway.run(
        _get(gateway, "/ui/page-models.js", **{"Accept-Encoding": "gzip, deflate, br"})
    )
    assert status == 200 and packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == original and len(body) < len(original) / 2
    assert packed["Vary"] == "Accept-Encoding" and plain["Vary"] == "Accept-Encoding"
    assert packed["ETag"] != plain["ETag"]
    assert packed["Cache-Control"] == "no-cache"
    # Each representation revalidates against its own ETag only.
    status, _, body = gateway.run(
        _get(gateway, "/ui/page-models.js", **_gzip(if_none_match=packed["ETag"]))
    )
    assert status == 304 and body == b""
    status, _, body = gateway.run(
        _get(gateway, "/ui/page-models.js", **_gzip(if_none_match=plain["ETag"]))
    )
    assert status == 200 and gzip.decompress(body) == original
    # gzip refused with q=0: the plain body.
    status, headers, body = gateway.run(
        _get(gateway, "/ui/page-models.js", **{"Accept-Encoding": "gzip;q=0, identity"})
    )
    assert status == 200 and body == original and "Content-Encoding" not in headers


def test_a_tiny_file_is_sent_as_it_is(gateway):
    status, headers, body = gateway.run(
        _get(gateway, "/ui/errors.js", **{"Accept-Encoding": "gzip"})
    )
    assert status == 200 and "Content-Encoding" not in headers
    assert body == UI.joinpath("errors.js").read_bytes()

"""The headers every dashboard response carries: a strict Content-Security-Policy
(only this origin's scripts, styles and connections; no inline code but the page's
own style element, allowed by its hash; no framing),
no MIME sniffing, no referrer, and no caching of anything but the static assets."""

from __future__ import annotations

from aiohttp import web

__all__ = ["CONTENT_SECURITY_POLICY", "secure_headers"]

_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(_DIRECTIVES)


def _policy(style_hashes: tuple[str, ...]) -> str:
    """The policy, allowing also the inline style elements of these hashes ('sha256-...')."""
    if not style_hashes:
        return CONTENT_SECURITY_POLICY
    extra = " ".join(style_hashes)
    return "; ".join(f"{d} {extra}" if d.startswith("style-src ") else d for d in _DIRECTIVES)


def secure_headers(
    response: web.StreamResponse, *, cacheable: bool = False, style_hashes: tuple[str, ...] = ()
) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = _policy(style_hashes)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers.setdefault("Cache-Control", "no-cache" if cacheable else "no-store")

"""Parsing an upstream URL once into what a request needs.

Routes call the same few URLs millions of times, so the parse is cached: the
origin (which pool), the request target and the `Host` header are plain
strings afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

__all__ = ["Target", "target_for"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    host_header: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


@lru_cache(maxsize=1024)
def target_for(url: str) -> Target:
    """The parsed form of `url`; ValueError for anything but absolute http(s) URLs."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} (http or https)")
    host = parts.hostname
    if not host:
        raise ValueError("the URL has no host")
    port = parts.port or _DEFAULT_PORTS[scheme]  # ValueError for a bad port
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if any(c in path for c in " \r\n"):
        raise ValueError("the URL path contains whitespace")
    shown = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    host_header = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    return Target(scheme, host, port, path, host_header)

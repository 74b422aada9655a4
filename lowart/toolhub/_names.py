"""Names: registered servers, the `server__tool` a caller sees, the `server.tool` rules use."""

from __future__ import annotations

import re

__all__ = ["SERVER_NAME", "exposed_name", "split_name"]

SERVER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
"""No underscore and no dot, so `server__tool` and `server.tool` split unambiguously."""

_EXPOSED = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # a valid OpenAI function name


def exposed_name(server: str, tool: str) -> str | None:
    """`server__tool`, or None when that is not a valid function name (such a tool is
    skipped: a model could not call it)."""
    name = f"{server}__{tool}"
    return name if _EXPOSED.fullmatch(name) else None


def split_name(name: str) -> tuple[str, str] | None:
    """(server, tool) from `server__tool` or `server.tool` (split on the first separator)."""
    for separator in ("__", "."):
        server, found, tool = name.partition(separator)
        if found and SERVER_NAME.fullmatch(server) and tool:
            return server, tool
    return None

"""Request ids: the client's own when it sent a sane one, else a fresh random one."""

from __future__ import annotations

import os
import re

__all__ = ["request_id"]

_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id(presented: str | None, prefix: str = "req") -> str:
    """Keep a caller's id (for correlation across its own logs) if it is short and
    plain, so it can never inject into headers or log lines; otherwise 128 random bits."""
    if presented and _ACCEPTABLE.match(presented):
        return presented
    return f"{prefix}_{os.urandom(16).hex()}"

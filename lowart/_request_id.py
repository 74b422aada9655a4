"""Request ids: the client's own when it sent a sane one, else a fresh random one.

A presented id is kept only when it is plain (letters, digits, `._:-`) and fits
the usage record's column (`REQUEST_ID_MAX_LENGTH`, defined by the store). One
that is too long or odd is replaced, not truncated: a cut id would no longer
match the caller's logs, and two long ids sharing a prefix would collide.
"""

from __future__ import annotations

import os
import re

from lowart.store import REQUEST_ID_MAX_LENGTH

__all__ = ["request_id"]

_ACCEPTABLE = re.compile(rf"^[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_LENGTH}}}$")


def request_id(presented: str | None, prefix: str = "req") -> str:
    """Keep a caller's id (for correlation across its own logs) if it is short and
    plain, so it can never inject into headers or log lines; otherwise 128 random bits."""
    if presented and _ACCEPTABLE.match(presented):
        return presented
    return f"{prefix}_{os.urandom(16).hex()}"

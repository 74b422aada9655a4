"""Credentials out of upstream messages before a caller sees them.

Vendors echo the key they were sent in their error messages, whole or masked
(OpenAI: "Incorrect API key provided: sk-abc*****wxyz"). Every message an
adapter passes on goes through `redact`, which removes the route's own key
(whole, or any long piece of it) and anything shaped like a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["REDACTED", "redact"]

REDACTED = "[redacted]"

# Runs of key characters: a piece of the route's key shown on its own (a prefix or
# suffix around a mask) is one of these.
_RUN = re.compile(r"[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+?(?=\.?(?:[\s\"',;]|$))")
# Vendor and lowart key shapes: sk-..., sk-ant-..., sk-proj-..., la-..., also masked.
_PREFIXED = re.compile(r"\b(?:sk|la|rk|pk)-[A-Za-z0-9_\-*.…]{4,}")
# A masked secret: key characters around a run of mask characters.
_MASKED = re.compile(r"(?:[A-Za-z0-9_\-]{2,}(?:\*{3,}|\.{3,}|…)|\*{3,})[A-Za-z0-9_\-]{2,}")
# A long random-looking token right after a key/token word ("api_key=...", "token: ...").
_AFTER_WORD = re.compile(
    r"(?i)\b((?:api[_\- ]?)?key|token|secret|password|credential)s?"
    r"(\s*(?:provided|is|was)?\s*[:=]?\s*[\"']?)"
    r"([A-Za-z0-9_\-+/=.]{16,})"
)


def _looks_random(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _strip_trailing_dots(match: re.Match[str]) -> str:
    """A sentence's final period is not part of the key it follows."""
    text = match.group(0)
    tail = len(text) - len(text.rstrip("."))
    return REDACTED + ("." * tail if tail and not text.endswith("...") else "")


def _after_word(match: re.Match[str]) -> str:
    token = match.group(3)
    if not _looks_random(token):
        return match.group(0)
    return match.group(1) + match.group(2) + REDACTED


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without the given secrets (whole or in pieces of six characters or
    more) and without anything that looks like a credential."""
    pieces = [secret for secret in secrets if secret]
    for secret in pieces:
        text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PREFIXED.sub(_strip_trailing_dots, text)
    text = _MASKED.sub(REDACTED, text)
    text = _AFTER_WORD.sub(_after_word, text)
    long_pieces = [secret for secret in pieces if len(secret) >= 8]
    if long_pieces:

        def piece(match: re.Match[str]) -> str:
            run = match.group(0)
            return REDACTED if any(run in secret for secret in long_pieces) else run

        text = _RUN.sub(piece, text)
    return text

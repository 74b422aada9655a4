"""Errors of paused tool sessions, in the gateway's one error vocabulary."""

from __future__ import annotations

from lowart.errors import InvalidRequest, NotFound

__all__ = ["ToolSessionContinued", "ToolSessionExpired", "ToolSessionNotFound"]


class ToolSessionNotFound(NotFound):
    """404: no such paused session for this key (another key's is not found either)."""

    default_code = "tool_session_not_found"


class ToolSessionExpired(InvalidRequest):
    """410: the session waited longer than LOWART_TOOL_APPROVAL_TTL; its calls never ran."""

    status = 410
    default_code = "tool_session_expired"


class ToolSessionContinued(InvalidRequest):
    """409: the session was continued already (a session continues once)."""

    status = 409
    default_code = "tool_session_continued"

"""The one store error callers act on: a name that must be unique is taken."""

from __future__ import annotations

__all__ = ["DuplicateName"]


class DuplicateName(Exception):
    """A key, model or fallback edge with that name already exists."""

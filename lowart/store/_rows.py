"""Result rows as plain dicts with plain `str` keys (JSON encoders refuse str subclasses)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Row

__all__ = ["as_dict", "inserted_id"]


def as_dict(row: Row[*tuple[Any, ...]]) -> dict[str, Any]:
    return {str(key): value for key, value in row._mapping.items()}


def inserted_id(result: CursorResult[*tuple[Any, ...]]) -> int:
    """The primary key of the one row an INSERT added."""
    key = result.inserted_primary_key
    assert key is not None, "not the result of a single-row INSERT"
    return int(key[0])

"""Result rows as plain dicts with plain `str` keys (JSON encoders refuse str subclasses)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

__all__ = ["as_dict"]


def as_dict(row: Row) -> dict[str, Any]:
    return {str(key): value for key, value in row._mapping.items()}

"""Per-call limits for route scripts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lowart.config import Settings

__all__ = ["ScriptLimits"]


@dataclass(frozen=True, slots=True)
class ScriptLimits:
    """What one script call may use before it is aborted (that call only).

    Scripts run on the event loop thread, so `seconds` is also the longest a
    hostile script can stall other requests; keep it small.
    """

    instructions: int = 5_000_000
    memory_bytes: int = 64 * 1024 * 1024
    seconds: float = 0.25

    @classmethod
    def from_settings(cls, settings: Settings) -> ScriptLimits:
        return cls(
            instructions=settings.lua_max_instructions,
            memory_bytes=settings.lua_max_memory_mb * 1024 * 1024,
            seconds=settings.lua_timeout,
        )

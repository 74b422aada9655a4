"""One image generation followed to its end: progress events, then the result.

This is what a frontend with its own streaming (gRPC's server stream, MCP's
progress notifications) iterates: `ImageProgress` snapshots as the job moves, then
one `GenerationResult` with the stored files, or the job's error raised. Like
the gateway's `ChatStream`, it must always be closed (`async with`): closing
it before the end, because the client cancelled or its deadline passed,
cancels the generation on ComfyUI, and the job's usage record says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lowart.errors import GatewayError
from lowart.types import ImageProgress, Route

__all__ = ["GenerationEvent", "GenerationResult", "ImageGeneration", "ImageOutput"]


@dataclass(frozen=True, slots=True)
class ImageOutput:
    """One stored result image; `read()` gives its bytes (they stay on disk until asked)."""

    index: int
    file_id: str
    url: str
    content_type: str
    size: int
    path: Path

    async def read(self) -> bytes:
        return await asyncio.to_thread(self.path.read_bytes)


@dataclass(frozen=True, slots=True)
class GenerationResult:
    job_id: str
    model: str
    outputs: tuple[ImageOutput, ...]
    duration_ms: float


GenerationEvent = ImageProgress | GenerationResult


class ImageGeneration:
    def __init__(
        self,
        *,
        route: Route,
        job_id: str,
        events: asyncio.Queue[tuple[str, Any]],
        result: Callable[[dict[str, Any], GatewayError | None], Awaitable[GenerationResult]],
        cancel: Callable[[], Awaitable[None]],
    ) -> None:
        self.route = route
        self.job_id = job_id
        self._events = events
        self._result = result
        self._cancel = cancel
        self._finished = False
        self._iterator = self._follow()

    def __aiter__(self) -> AsyncGenerator[GenerationEvent]:
        return self._iterator

    async def __aenter__(self) -> ImageGeneration:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop following; a generation left unfinished is cancelled on ComfyUI."""
        await self._iterator.aclose()
        if not self._finished:
            self._finished = True
            await asyncio.shield(self._cancel())

    async def _follow(self) -> AsyncGenerator[GenerationEvent]:
        while True:
            kind, value = await self._events.get()
            if kind == "progress":
                yield value
                continue
            row, error = value
            self._finished = True
            yield await self._result(row, error)  # raises unless the job succeeded
            return

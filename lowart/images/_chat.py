"""A chat stream on an image model: progress lines as content chunks, then the images.

It has the same shape as the gateway's `ChatStream` (iterate it, always close
it), so every chat frontend relays it unchanged. Closing it before the end
(the client went away) cancels the generation on ComfyUI.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Any

from lowart.images._generation import ImageGeneration
from lowart.images._public import images_markdown
from lowart.types import ChatChunk, ImageProgress

__all__ = ["ImageChatStream", "progress_text"]


def progress_text(progress: ImageProgress) -> str:
    if progress.state == "queued":
        where = f" (position {progress.queue_position})" if progress.queue_position else ""
        return f"Queued{where}.\n"
    if progress.step is not None and progress.steps:
        return f"Step {progress.step} of {progress.steps}.\n"
    if progress.node_index:
        kind = f": {progress.node_type}" if progress.node_type else ""
        return f"Running node {progress.node_index} of {progress.node_count}{kind}.\n"
    return "Running.\n"


class ImageChatStream:
    """An `ImageGeneration` told as chat chunks: progress lines, then image links."""

    def __init__(self, generation: ImageGeneration, *, include_usage: bool) -> None:
        self.route = generation.route  # as on ChatStream
        self._generation = generation
        self._include_usage = include_usage
        self._base = {
            "id": "chatcmpl-" + generation.job_id.removeprefix("job_"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": generation.route.name,
        }
        self._iterator = self._chunks()

    def __aiter__(self) -> AsyncGenerator[ChatChunk]:
        return self._iterator

    async def __aenter__(self) -> ImageChatStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._iterator.aclose()
        await self._generation.aclose()  # cancels the generation unless it finished

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> ChatChunk:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**self._base, "choices": [choice]}  # type: ignore[typeddict-item]

    async def _chunks(self) -> AsyncGenerator[ChatChunk]:
        yield self._chunk({"role": "assistant", "content": ""})
        last = ""
        async for event in self._generation:  # raises the job's error unless it succeeded
            if isinstance(event, ImageProgress):
                text = progress_text(event)
                if text != last:
                    last = text
                    yield self._chunk({"content": text})
                continue
            content = images_markdown(output.url for output in event.outputs)
            yield self._chunk({"content": content}, "stop")
            if self._include_usage:
                usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
                yield {**self._base, "choices": [], "usage": usage}  # type: ignore[typeddict-item]
            return

"""What an adapter whose routes generate images offers the image engine.

The engine (lowart.images) follows jobs through this interface, never through a
vendor's class, so a second image vendor is one more subclass. ComfyUI's is the
one today.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from lowart.adapters.base import Adapter
from lowart.types import ImageProgress, Route, VendorHooks

__all__ = ["ImageAdapter", "ImageFinished", "ImageRef"]


@dataclass(frozen=True, slots=True)
class ImageRef:
    """Where the vendor keeps one result image (what `fetch` takes)."""

    filename: str
    subfolder: str
    type: str


@dataclass(frozen=True, slots=True)
class ImageFinished:
    """The vendor is through with a prompt: these are its images."""

    images: tuple[ImageRef, ...]


class ImageAdapter(Adapter):
    """An adapter for routes that make images: workflows in, progress and files out."""

    generates_images = True

    @staticmethod
    @abstractmethod
    def bindings(route: Route) -> dict[str, list[str]]:
        """Which request values the route's workflow takes, and where."""

    @staticmethod
    @abstractmethod
    def build_workflow(route: Route, values: dict[str, Any]) -> dict[str, Any]:
        """The route's workflow with the request's values written in."""

    @abstractmethod
    async def upload(self, route: Route, data: bytes, content_type: str) -> str:
        """Store an input image upstream; returns how the workflow refers to it."""

    @abstractmethod
    def generate(
        self,
        route: Route,
        workflow: dict[str, Any],
        *,
        prompt_id: str,
        client_id: str,
        hooks: VendorHooks | None = None,
    ) -> AsyncIterator[ImageProgress | ImageFinished]:
        """Submit, then yield progress and finally `ImageFinished` (or raise)."""

    @abstractmethod
    def follow(
        self,
        route: Route,
        workflow: dict[str, Any] | None,
        *,
        prompt_id: str,
        client_id: str,
        resume_from: ImageProgress | None = None,
    ) -> AsyncIterator[ImageProgress | ImageFinished]:
        """Pick up a prompt submitted earlier (after a gateway restart); `resume_from` is
        the last progress stored before it, so the numbering goes on."""

    @abstractmethod
    async def fetch(self, route: Route, image: ImageRef) -> tuple[bytes, str]:
        """One result image's bytes and content type."""

    @abstractmethod
    async def cancel(self, route: Route, prompt_id: str) -> None:
        """Interrupt (running) or dequeue (pending) a prompt."""

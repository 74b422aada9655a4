"""What an image generation call returns: the images now, or a job that runs on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AcceptedJob", "GeneratedImages"]


@dataclass(frozen=True, slots=True)
class GeneratedImages:
    """The OpenAI Images API's answer: when, and each image (`url` or `b64_json`)."""

    created: int
    data: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AcceptedJob:
    """Asked to run in the background: the job object to poll (GET /v1/jobs/{id})."""

    job: dict[str, Any]

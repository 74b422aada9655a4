"""Image generation (ComfyUI routes): params, jobs, files and the service frontends call."""

from lowart.images._chat import ImageChatStream, progress_text
from lowart.images._generation import (
    GenerationEvent,
    GenerationResult,
    ImageGeneration,
    ImageOutput,
)
from lowart.images._jobs import ImageJobs
from lowart.images._params import ImageParams, InputImage
from lowart.images._service import ImageService, JobCancelled

__all__ = [
    "GenerationEvent",
    "GenerationResult",
    "ImageChatStream",
    "ImageGeneration",
    "ImageJobs",
    "ImageOutput",
    "ImageParams",
    "ImageService",
    "InputImage",
    "JobCancelled",
    "progress_text",
]

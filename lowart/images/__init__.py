"""Image generation (image routes): params, jobs, files and the results they give."""

from lowart.images._chat import ImageChatStream, progress_text
from lowart.images._generation import (
    GenerationEvent,
    GenerationResult,
    ImageGeneration,
    ImageOutput,
)
from lowart.images._jobs import ImageJobs, JobEvent
from lowart.images._params import ImageParams, InputImage, params_from_chat, params_from_images_api
from lowart.images._results import AcceptedJob, GeneratedImages
from lowart.images._service import ImageService

__all__ = [
    "AcceptedJob",
    "GeneratedImages",
    "GenerationEvent",
    "GenerationResult",
    "ImageChatStream",
    "ImageGeneration",
    "ImageJobs",
    "ImageOutput",
    "ImageParams",
    "ImageService",
    "InputImage",
    "JobEvent",
    "params_from_chat",
    "params_from_images_api",
    "progress_text",
]

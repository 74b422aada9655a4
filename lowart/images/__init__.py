"""Image generation (ComfyUI routes): params, jobs, files and the service frontends call."""

from lowart.images._chat import ImageChatStream
from lowart.images._jobs import ImageJobs
from lowart.images._params import ImageParams, InputImage
from lowart.images._service import ImageService, JobCancelled

__all__ = [
    "ImageChatStream",
    "ImageJobs",
    "ImageParams",
    "ImageService",
    "InputImage",
    "JobCancelled",
]

"""ComfyUI: image workflows as models (adapter, workflow bindings, prompt events)."""

from lowart.adapters.comfyui._adapter import ComfyUIAdapter, GenerationEvent
from lowart.adapters.comfyui._errors import PromptInterrupted, PromptLost
from lowart.adapters.comfyui._events import Finished, ImageRef, Progress
from lowart.adapters.comfyui._workflow import BINDABLE, check_comfyui_options

__all__ = [
    "BINDABLE",
    "ComfyUIAdapter",
    "Finished",
    "GenerationEvent",
    "ImageRef",
    "Progress",
    "PromptInterrupted",
    "PromptLost",
    "check_comfyui_options",
]

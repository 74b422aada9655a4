"""Vendor adapters: one per upstream API, all with the same interface."""

from lowart.adapters._image import ImageAdapter, ImageFinished, ImageRef
from lowart.adapters._redact import redact
from lowart.adapters.anthropic import AnthropicAdapter
from lowart.adapters.base import Adapter
from lowart.adapters.comfyui import ComfyUIAdapter
from lowart.adapters.mock import MockAdapter
from lowart.adapters.openai import OpenAIAdapter

__all__ = [
    "VENDORS",
    "Adapter",
    "AnthropicAdapter",
    "ComfyUIAdapter",
    "ImageAdapter",
    "ImageFinished",
    "ImageRef",
    "MockAdapter",
    "OpenAIAdapter",
    "redact",
]

# Vendors a model route may name; the composition root builds one adapter each.
VENDORS = ("openai", "anthropic", "mock", "comfyui")

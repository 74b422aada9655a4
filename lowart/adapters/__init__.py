"""Vendor adapters: one per upstream API, all with the same interface."""

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
    "MockAdapter",
    "OpenAIAdapter",
]

# Vendors a model route may name; the composition root builds one adapter each.
VENDORS = ("openai", "anthropic", "mock", "comfyui")

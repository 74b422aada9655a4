"""Pure protocol translations between the canonical (OpenAI) shape and vendor shapes.

Nothing here does I/O: adapters and frontends call these functions, tests call
them directly. Each direction lives in exactly one place.
"""

from lowart.translate._anthropic_clients import fold_system_messages
from lowart.translate._anthropic_request import (
    DEFAULT_MAX_TOKENS,
    anthropic_request_to_openai,
    openai_request_to_anthropic,
)
from lowart.translate._anthropic_response import (
    anthropic_error_status,
    anthropic_response_to_openai,
    anthropic_usage_to_openai,
    openai_response_to_anthropic,
    openai_usage_to_anthropic,
)
from lowart.translate._anthropic_stream import AnthropicToOpenAIStream, OpenAIToAnthropicStream

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "AnthropicToOpenAIStream",
    "OpenAIToAnthropicStream",
    "anthropic_error_status",
    "anthropic_request_to_openai",
    "anthropic_response_to_openai",
    "anthropic_usage_to_openai",
    "fold_system_messages",
    "openai_request_to_anthropic",
    "openai_response_to_anthropic",
    "openai_usage_to_anthropic",
]

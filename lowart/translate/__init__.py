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
from lowart.translate._responses_request import (
    MAX_INPUT_ITEMS,
    ToolNames,
    responses_items,
    responses_request_to_chat,
)
from lowart.translate._responses_response import (
    chat_reply_to_output,
    chat_usage_to_responses,
    echoed_settings,
    new_id,
    response_object,
    responses_reply_to_chat,
    responses_usage_to_chat,
)
from lowart.translate._responses_stream import ChatToResponsesEvents, ResponsesEventsToChat

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "MAX_INPUT_ITEMS",
    "AnthropicToOpenAIStream",
    "ChatToResponsesEvents",
    "OpenAIToAnthropicStream",
    "ResponsesEventsToChat",
    "ToolNames",
    "anthropic_error_status",
    "anthropic_request_to_openai",
    "anthropic_response_to_openai",
    "anthropic_usage_to_openai",
    "chat_reply_to_output",
    "chat_usage_to_responses",
    "echoed_settings",
    "fold_system_messages",
    "new_id",
    "openai_request_to_anthropic",
    "openai_response_to_anthropic",
    "openai_usage_to_anthropic",
    "response_object",
    "responses_items",
    "responses_reply_to_chat",
    "responses_request_to_chat",
    "responses_usage_to_chat",
]

"""Token counting and usage metering."""

from lowart.accounting._meter import StreamMeter
from lowart.accounting._tokens import (
    count_completion_tokens,
    count_prompt_tokens,
    count_prompt_tokens_off_loop,
    count_text,
    encoding_for_model,
    ensure_loaded,
    warm_up,
)
from lowart.accounting._writer import UsageWriter

__all__ = [
    "StreamMeter",
    "UsageWriter",
    "count_completion_tokens",
    "count_prompt_tokens",
    "count_prompt_tokens_off_loop",
    "count_text",
    "encoding_for_model",
    "ensure_loaded",
    "warm_up",
]

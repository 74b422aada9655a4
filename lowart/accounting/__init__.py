"""Token counting and usage metering."""

from lowart.accounting._journal import UsageJournal
from lowart.accounting._meter import MalformedReply, StreamMeter
from lowart.accounting._tokens import (
    count_completion_tokens,
    count_embedding_input,
    count_embedding_input_off_loop,
    count_prompt_tokens,
    count_prompt_tokens_off_loop,
    count_text,
    encoding_for_model,
    ensure_loaded,
    warm_up,
)
from lowart.accounting._usage import MAX_TOKENS, CheckedUsage, checked_usage
from lowart.accounting._writer import UsageWriter

__all__ = [
    "MAX_TOKENS",
    "CheckedUsage",
    "MalformedReply",
    "StreamMeter",
    "UsageJournal",
    "UsageWriter",
    "checked_usage",
    "count_completion_tokens",
    "count_embedding_input",
    "count_embedding_input_off_loop",
    "count_prompt_tokens",
    "count_prompt_tokens_off_loop",
    "count_text",
    "encoding_for_model",
    "ensure_loaded",
    "warm_up",
]

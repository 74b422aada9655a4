"""Token counting and usage metering."""

from lowart.accounting._journal import UsageJournal
from lowart.accounting._meter import MalformedReply, StreamMeter
from lowart.accounting._prices import (
    MAX_PRICE,
    PRICE_COLUMNS,
    PriceTable,
    check_currency,
    check_price,
    price_table,
    route_price,
)
from lowart.accounting._tokens import (
    count_completion_tokens,
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
    "MAX_PRICE",
    "MAX_TOKENS",
    "PRICE_COLUMNS",
    "CheckedUsage",
    "MalformedReply",
    "PriceTable",
    "StreamMeter",
    "UsageJournal",
    "UsageWriter",
    "check_currency",
    "check_price",
    "checked_usage",
    "count_completion_tokens",
    "count_prompt_tokens",
    "count_prompt_tokens_off_loop",
    "count_text",
    "encoding_for_model",
    "ensure_loaded",
    "price_table",
    "route_price",
    "warm_up",
]

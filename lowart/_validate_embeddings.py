"""Checks on an embeddings request (OpenAI's `POST /v1/embeddings`) before it is routed.

The input may be a string, a list of strings, a token array or a list of token
arrays, as OpenAI accepts; it is normalised to a list either way, so adapters
and token counting see one shape (`EmbeddingInput`). Every size is bounded:
the number of inputs, their total length (before any tokenizing: cheap) and,
once counted, their tokens; `dimensions` lies in a sane range.
"""

from __future__ import annotations

from typing import Any

from lowart.errors import InvalidRequest

__all__ = [
    "MAX_EMBEDDING_DIMENSIONS",
    "MAX_EMBEDDING_INPUTS",
    "MAX_EMBEDDING_TOKENS",
    "EmbeddingInput",
    "validate_embedding_request",
]

EmbeddingInput = list[str] | list[list[int]]

MAX_EMBEDDING_INPUTS = 2048  # OpenAI's own limit per request
MAX_EMBEDDING_TOKENS = 300_000  # total tokens of one request (OpenAI's limit too)
MAX_EMBEDDING_DIMENSIONS = 8192
_MAX_CHARS = 4 * 1024 * 1024  # more text than MAX_EMBEDDING_TOKENS can hold, refused uncounted
_MAX_TOKEN_ID = 2**31 - 1
_FORMATS = ("float", "base64")


def validate_embedding_request(body: Any) -> dict[str, Any]:
    """The checked request, its `input` always a list (of strings or of token arrays)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required and must be a string.", param="model")
    request = {**body, "input": _inputs(body.get("input"))}
    encoding = body.get("encoding_format")
    if encoding is not None and encoding not in _FORMATS:
        raise InvalidRequest(
            "'encoding_format' must be 'float' or 'base64'.", param="encoding_format"
        )
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        not isinstance(dimensions, int)
        or isinstance(dimensions, bool)
        or not 1 <= dimensions <= MAX_EMBEDDING_DIMENSIONS
    ):
        raise InvalidRequest(
            f"'dimensions' must be an integer from 1 to {MAX_EMBEDDING_DIMENSIONS}.",
            param="dimensions",
        )
    return request


def _inputs(value: Any) -> EmbeddingInput:
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and all(_is_token(t) for t in value):
        items = [value]  # one token array
    elif isinstance(value, list) and value:
        items = value
    else:
        raise InvalidRequest(
            "'input' must be a non-empty string, a list of strings, a token array or a list "
            "of token arrays.",
            param="input",
        )
    if len(items) > MAX_EMBEDDING_INPUTS:
        raise InvalidRequest(
            f"'input' holds {len(items)} inputs; at most {MAX_EMBEDDING_INPUTS} per request.",
            param="input",
        )
    if all(isinstance(item, str) for item in items):
        if any(not item for item in items):
            raise InvalidRequest("'input' may not hold an empty string.", param="input")
        if sum(len(item) for item in items) > _MAX_CHARS:
            raise InvalidRequest(
                f"'input' holds more text than {MAX_EMBEDDING_TOKENS} tokens can.", param="input"
            )
        return items
    if all(isinstance(item, list) and item and all(map(_is_token, item)) for item in items):
        if sum(len(item) for item in items) > MAX_EMBEDDING_TOKENS:
            raise InvalidRequest(
                f"'input' holds more than {MAX_EMBEDDING_TOKENS} tokens.", param="input"
            )
        return items
    raise InvalidRequest(
        "'input' must be all strings or all token arrays (non-empty arrays of token ids).",
        param="input",
    )


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TOKEN_ID
